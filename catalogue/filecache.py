"""A folder of remote publication PDFs, each downloaded once and kept.

``FileCache(folder).fetch(url)`` returns ``folder/<sha256 of url>.pdf``, downloading it first
if it is not there yet. A download streams into a temporary file beside it (``*.part``) that is
renamed into place only when the whole body has arrived and passed the checks, so a cached file
is always complete. Cached files never expire: delete one to fetch it again.

Within one process, calls for the same URL (on any ``FileCache`` of the same folder) wait for
each other, so a URL is downloaded once. Two processes may both download the same URL at the
same moment; each renames a complete file, so the result is still whole.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
import threading
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

PDF_MAGIC = b"%PDF-"  # a PDF file starts with its header line, ISO 32000-1 §7.5.2
MAX_BYTES = 200 * 2**20
CHUNK = 64 * 2**10

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class FetchError(Exception):
    """A remote PDF could not be fetched; the message says which URL and why."""


class _TransientFetchError(FetchError):
    """A failure worth retrying: a timeout, a dropped connection, HTTP 429 or 5xx."""


class FileCache:
    """Remote PDFs cached under ``folder`` (created when first needed).

    ``max_bytes`` caps a body (200 MiB); ``timeout`` (seconds) applies to connecting and to each
    wait for data, not to the whole download; a transient failure is tried ``attempts`` times in
    all, waiting ``retry_wait`` seconds, then twice that, … (at most 30 s) in between.
    """

    def __init__(
        self,
        folder: Path,
        *,
        max_bytes: int = MAX_BYTES,
        timeout: float = 30.0,
        attempts: int = 3,
        retry_wait: float = 1.0,
    ) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.attempts = attempts
        self.retry_wait = retry_wait

    def path(self, url: str) -> Path:
        """Where ``url`` is (or will be) cached: ``folder/<sha256 hex of url>.pdf``."""
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()}.pdf"

    def fetch(self, url: str) -> Path:
        """The cached copy of the PDF at ``url`` (http or https, redirects followed),
        downloaded now if it is not cached yet; no request is made when it is.

        Raises:
            FetchError: an HTTP error status (after retries for 429 and 5xx), a timeout or
                connection failure (after retries), a body that does not start with ``%PDF-``
                (e.g. an HTML error page), a body over ``max_bytes``, or a bad URL.
            OSError: ``folder`` cannot be written.
        """
        path = self.path(url)
        with _lock(path.absolute()):
            if not path.exists():
                self.folder.mkdir(parents=True, exist_ok=True)
                retrying = Retrying(
                    retry=retry_if_exception_type(_TransientFetchError),
                    stop=stop_after_attempt(self.attempts),
                    wait=wait_exponential(multiplier=self.retry_wait, max=30),
                    reraise=True,
                )
                retrying(self._download, url, path)
        return path

    def _download(self, url: str, path: Path) -> None:
        try:
            with httpx.stream("GET", url, timeout=self.timeout, follow_redirects=True) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise _TransientFetchError(f"{url}: HTTP {status} {response.reason_phrase}")
                if status >= 400:
                    raise FetchError(f"{url}: HTTP {status} {response.reason_phrase}")
                self._save(url, response, path)
        except httpx.TimeoutException as exc:
            raise _TransientFetchError(
                f"{url}: timed out after {self.timeout} s ({exc!r})"
            ) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _TransientFetchError(f"{url}: connection failed ({exc!r})") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(f"{url}: {exc!r}") from exc

    def _save(self, url: str, response: httpx.Response, path: Path) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{url}: {declared} bytes is over the {self.max_bytes} byte limit")
        chunks = response.iter_bytes(CHUNK)
        head = next(chunks, b"")
        if not head.startswith(PDF_MAGIC):
            kind = response.headers.get("content-type", "no content type")
            raise FetchError(f"{url}: not a PDF ({kind}, starts with {head[:16]!r})")
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in itertools.chain([head], chunks):
                    if out.tell() + len(chunk) > self.max_bytes:
                        raise FetchError(f"{url}: body over the {self.max_bytes} byte limit")
                    out.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise


def _lock(path: Path) -> threading.Lock:
    """The process-wide lock of one cache file (kept for the life of the process)."""
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())
