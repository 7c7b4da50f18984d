"""Files sent to visitors, by attachment key, and the signed links WhatsApp fetches them from.

``unduh/<download_id>``: a watermarked softcopy. The ``Download`` row (who, which publication,
when) is made in the conversation; the stamped PDF is produced when first sent and kept under
``<data>/downloads/``. ``tiket/<path>``: the file staff attached to a ticket with ``/siap``,
kept under ``<data>/tickets/<path>``. ``ekspor/<id>``: a visitor's copy of their personal data
(:mod:`core.privacy`), written fresh under ``<data>/exports/`` whenever it is fetched. WhatsApp
gets files through ``GET /unduh/<token>/<name>``: the token is the key signed with
``PSTBOT_SECRET_KEY`` (itsdangerous), valid ``max_age`` seconds (24 h by default).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Blueprint, Response, send_file
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.utils import secure_filename

from catalogue.filecache import FetchError, FileCache
from catalogue.samples import ensure_sample_files
from catalogue.watermark import Stamp, WatermarkError, stamp
from core import privacy
from office.config import PstConfig
from storage.db import Database
from storage.models import Download, Publication, Visitor

logger = logging.getLogger(__name__)
# A download id as made by the library flow, or an export's id; never a path.
DOWNLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class NotReady(Exception):
    """The attachment is being prepared (a remote PDF fetched and stamped); try shortly."""


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
        self.exports_dir = data_dir / privacy.EXPORTS
        self.cache = FileCache(data_dir / "cache")
        self.public_base_url = public_base_url
        self.max_age = max_age
        self._signer = URLSafeTimedSerializer(secret, salt="unduh") if secret else None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="files")
        self._preparing: set[str] = set()
        self._failed: dict[str, str] = {}
        self._preparing_lock = threading.Lock()

    def path(self, key: str, fetch: bool = True) -> Path:
        """The file of attachment ``key``, stamping a softcopy on first use.

        With ``fetch`` False (the send path, which must never wait on another server), a
        softcopy whose remote PDF is not cached yet is fetched and stamped in the background
        and :class:`NotReady` is raised; once that fetch failed for good, LookupError.

        Raises:
            LookupError: unknown key, download or ticket file; a remote PDF that cannot be had.
            NotReady: the file is being prepared in the background (``fetch`` False).
            catalogue.filecache.FetchError: a remote PDF could not be fetched (retry later).
            catalogue.watermark.WatermarkError: the PDF cannot be stamped.
        """
        kind, _, ref = key.partition("/")
        if kind == "unduh":
            if not DOWNLOAD_ID.fullmatch(ref):
                raise LookupError(key)
            return self._stamped(ref, fetch)
        if kind == "tiket":
            path = (self.tickets_dir / ref).resolve()
            if not (path.is_relative_to(self.tickets_dir.resolve()) and path.is_file()):
                raise LookupError(key)
            return path
        if kind == "ekspor" and DOWNLOAD_ID.fullmatch(ref):
            with self.db.transaction() as session:
                return privacy.write_export(session, ref, self.exports_dir, self.pst)
        raise LookupError(key)

    def _in_background(self, key: str) -> NotReady:
        """Start preparing ``key`` on the files thread (once); the NotReady to raise."""
        with self._preparing_lock:
            if key in self._failed:
                raise LookupError(f"{key}: {self._failed[key]}")
            if key not in self._preparing:
                self._preparing.add(key)
                self._pool.submit(self._prepare, key)
        return NotReady(key)

    def _prepare(self, key: str) -> None:
        try:
            self.path(key)
        except (FetchError, WatermarkError, LookupError) as exc:
            logger.warning("attachment %s cannot be prepared: %s", key, type(exc).__name__)
            transient = isinstance(exc, FetchError) and type(exc) is not FetchError  # 5xx, 429
            if not transient:
                with self._preparing_lock:
                    self._failed[key] = type(exc).__name__
        except Exception:
            logger.exception("attachment %s: preparing failed", key)
        finally:
            with self._preparing_lock:
                self._preparing.discard(key)

    def close(self) -> None:
        """Wait for background preparations to end."""
        self._pool.shutdown(wait=True)

    def _stamped(self, download_id: str, fetch: bool = True) -> Path:
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
        if pub.local_file:
            ensure_sample_files(self.files_dir, [pub])  # a demonstration record's, on first use
            src = self.files_dir / pub.local_file
        elif fetch or (
            self.cache.path(pub.pdf_url).exists() and f"unduh/{download_id}" not in self._preparing
        ):
            src = self.cache.fetch(pub.pdf_url)
        else:  # another server: never waited for on the send path
            raise self._in_background(f"unduh/{download_id}")
        office = self.pst.office(download.office_code)
        when = download.created_at.replace(tzinfo=dt.UTC).astimezone(office.tz)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(f".{uuid.uuid4().hex}.tmp")  # two stampers never share one
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

    @property
    def links_enabled(self) -> bool:
        """True when signed links can be made (``PSTBOT_SECRET_KEY`` and ``PUBLIC_BASE_URL``)."""
        return self._signer is not None and bool(self.public_base_url)

    def url(self, key: str, filename: str) -> str:
        """The signed, expiring link of attachment ``key``, ending in ``filename``. The file
        must be ready first (see :meth:`path` with ``fetch`` False), so the fetch is quick.

        Raises:
            RuntimeError: PSTBOT_SECRET_KEY or PUBLIC_BASE_URL is not set.
            NotReady, LookupError: as :meth:`path`.
        """
        if not self.links_enabled:
            raise RuntimeError("PSTBOT_SECRET_KEY and PUBLIC_BASE_URL are needed for file links")
        self.path(key, fetch=False)
        return f"{self.public_base_url}/unduh/{self._signer.dumps(key)}/{filename}"

    def size(self, key: str) -> int:
        """The size in bytes of attachment ``key`` as it will be sent (prepared, not fetched).

        Raises:
            NotReady, LookupError: as :meth:`path`.
        """
        return self.path(key, fetch=False).stat().st_size

    def blueprint(self) -> Blueprint:
        """``GET /unduh/<token>/<name>``: the file; 410 when the link expired, 404 when the token
        is not ours or the file is gone. Never 5xx: a link is only made for a ready file."""
        bp = Blueprint("unduh", __name__)

        @bp.get("/unduh/<token>/<filename>")
        def unduh(token: str, filename: str):
            try:
                key = self._signer.loads(token, max_age=self.max_age)
                path = self.path(key, fetch=False)
            except SignatureExpired:
                return _text(
                    "Tautan unduhan sudah kedaluwarsa. Silakan unduh ulang lewat chat.", 410
                )
            except BadSignature:
                logger.warning("download link with a bad signature refused")
                return _text("Tautan tidak dikenal.", 404)
            except (LookupError, NotReady, WatermarkError, OSError) as exc:
                logger.warning("download link for a missing file: %s", type(exc).__name__)
                return _text("Berkas tidak tersedia. Silakan minta ulang lewat chat.", 404)
            return send_file(path, download_name=secure_filename(filename) or path.name)

        return bp


def _text(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")
