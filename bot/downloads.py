"""Files sent to visitors, by attachment key, and the signed links WhatsApp fetches them from.

``unduh/<download_id>``: a watermarked softcopy. The ``Download`` row (who, which publication,
when) is made in the conversation; the stamped PDF is produced when first sent and kept under
``<data>/downloads/``. ``tiket/<path>``: the file staff attached to a ticket with ``/siap``,
kept under ``<data>/tickets/<path>``. WhatsApp gets files through ``GET /unduh/<token>/<name>``: the
token is the key signed with ``PSTBOT_SECRET_KEY`` (itsdangerous), valid ``max_age`` seconds
(24 h by default).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from flask import Blueprint, Response, send_file
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.utils import secure_filename

from bot.config import PstConfig
from catalogue.filecache import FileCache
from catalogue.watermark import Stamp, stamp
from storage.db import Database
from storage.models import Download, Publication, Visitor

logger = logging.getLogger(__name__)


class Downloads:
    """Resolves attachment keys to files under ``data_dir`` and signs their links."""

    def __init__(
        self,
        db: Database,
        pst: PstConfig,
        data_dir: Path,
        secret: str | None,
        public_base_url: str | None,
        max_age: int = 24 * 3600,
    ) -> None:
        self.db, self.pst = db, pst
        self.files_dir = data_dir / "files"
        self.out_dir = data_dir / "downloads"
        self.tickets_dir = data_dir / "tickets"
        self.cache = FileCache(data_dir / "cache")
        self.public_base_url = public_base_url
        self.max_age = max_age
        self._signer = URLSafeTimedSerializer(secret, salt="unduh") if secret else None

    def path(self, key: str) -> Path:
        """The file of attachment ``key``, stamping a softcopy on first use.

        Raises:
            LookupError: unknown key, download or ticket file.
            catalogue.filecache.FetchError: a remote PDF could not be fetched (retry later).
            catalogue.watermark.WatermarkError: the PDF cannot be stamped.
        """
        kind, _, ref = key.partition("/")
        if kind == "unduh":
            return self._stamped(ref)
        if kind == "tiket":
            path = (self.tickets_dir / ref).resolve()
            if not (path.is_relative_to(self.tickets_dir.resolve()) and path.is_file()):
                raise LookupError(key)
            return path
        raise LookupError(key)

    def _stamped(self, download_id: str) -> Path:
        dst = self.out_dir / f"{download_id}.pdf"
        if dst.exists():
            return dst
        with self.db.transaction() as session:
            row = session.execute(
                select(Download, Publication, Visitor)
                .join(Publication, Download.publication_id == Publication.id)
                .join(Visitor, Download.visitor_id == Visitor.id)
                .where(Download.download_id == download_id)
            ).first()
        if row is None:
            raise LookupError(download_id)
        download, pub, visitor = row
        src = self.files_dir / pub.local_file if pub.local_file else self.cache.fetch(pub.pdf_url)
        office = self.pst.office(download.office_code)
        when = download.created_at.replace(tzinfo=dt.UTC).astimezone(office.tz)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(f".{os.getpid()}.tmp")
        pages = stamp(
            src,
            tmp,
            Stamp(
                name=visitor.nama or "-",
                email=visitor.email or "-",
                office=office.nama,
                time=when,
                download_id=download_id,
            ),
        )
        os.replace(tmp, dst)
        logger.info("download %s stamped (%s pages)", download_id, pages)
        return dst

    def url(self, key: str, filename: str) -> str:
        """The signed, expiring link of attachment ``key``, ending in ``filename`` (the file is
        prepared first, so the fetch is quick).

        Raises:
            RuntimeError: PSTBOT_SECRET_KEY or PUBLIC_BASE_URL is not set.
        """
        if self._signer is None or not self.public_base_url:
            raise RuntimeError("PSTBOT_SECRET_KEY and PUBLIC_BASE_URL are needed for file links")
        self.path(key)
        return f"{self.public_base_url}/unduh/{self._signer.dumps(key)}/{filename}"

    def blueprint(self) -> Blueprint:
        """``GET /unduh/<token>/<name>``: the file; 410 when the link expired, 404 when the token
        is not ours."""
        bp = Blueprint("unduh", __name__)

        @bp.get("/unduh/<token>/<filename>")
        def unduh(token: str, filename: str):
            try:
                key = self._signer.loads(token, max_age=self.max_age)
            except SignatureExpired:
                return Response(
                    "Tautan unduhan sudah kedaluwarsa. Silakan unduh ulang lewat chat.",
                    status=410,
                    mimetype="text/plain",
                )
            except BadSignature:
                logger.warning("download link with a bad signature refused")
                return Response("Tautan tidak dikenal.", status=404, mimetype="text/plain")
            path = self.path(key)
            return send_file(path, download_name=secure_filename(filename) or path.name)

        return bp
