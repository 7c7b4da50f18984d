"""Watermarked softcopies: stamping a publication for one visitor, and the signed links.

A ``Download`` row (who, which publication, when) is made in the conversation; the stamped PDF
is produced when it is first sent (``prepare``) and kept under ``<data>/downloads/``. WhatsApp
gets the file through ``GET /unduh/<token>``: the token is the download id signed with
``PSTBOT_SECRET_KEY`` (itsdangerous) and expires after ``max_age`` seconds (24 h by default).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from flask import Blueprint, Response, send_file
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from bot.config import PstConfig
from catalogue.filecache import FileCache
from catalogue.names import pdf_filename
from catalogue.watermark import Stamp, stamp
from storage.db import Database
from storage.models import Download, Publication, Visitor

logger = logging.getLogger(__name__)


class Downloads:
    """Prepares stamped files under ``data_dir`` and signs their links."""

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
        self.cache = FileCache(data_dir / "cache")
        self.public_base_url = public_base_url
        self.max_age = max_age
        self._signer = URLSafeTimedSerializer(secret, salt="unduh") if secret else None

    def prepare(self, download_id: str) -> Path:
        """Return the stamped PDF of ``download_id``, stamping it on first use.

        Raises:
            LookupError: no such download.
            catalogue.filecache.FetchError: the remote PDF could not be fetched (retry later).
            catalogue.watermark.WatermarkError: the PDF cannot be stamped.
        """
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

    def url(self, download_id: str, filename: str) -> str:
        """The signed, expiring link of ``download_id``, ending in ``filename`` (the file is
        prepared first, so the fetch is quick).

        Raises:
            RuntimeError: PSTBOT_SECRET_KEY or PUBLIC_BASE_URL is not set.
        """
        if self._signer is None or not self.public_base_url:
            raise RuntimeError("PSTBOT_SECRET_KEY and PUBLIC_BASE_URL are needed for file links")
        self.prepare(download_id)
        return f"{self.public_base_url}/unduh/{self._signer.dumps(download_id)}/{filename}"

    def blueprint(self) -> Blueprint:
        """``GET /unduh/<token>``: the PDF; 410 when the link expired, 404 when it is not ours."""
        bp = Blueprint("unduh", __name__)

        @bp.get("/unduh/<token>/<filename>")
        def unduh(token: str, filename: str):
            try:
                download_id = self._signer.loads(token, max_age=self.max_age)
            except SignatureExpired:
                return Response(
                    "Tautan unduhan sudah kedaluwarsa. Silakan unduh ulang lewat chat.",
                    status=410,
                    mimetype="text/plain",
                )
            except BadSignature:
                logger.warning("download link with a bad signature refused")
                return Response("Tautan tidak dikenal.", status=404, mimetype="text/plain")
            return send_file(
                self.prepare(download_id),
                mimetype="application/pdf",
                download_name=pdf_filename(filename.removesuffix(".pdf")),
            )

        return bp
