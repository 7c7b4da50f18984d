"""Catalogue import: BPS WebAPI publication lists, CSV and JSONL files, and WebAPI sync.

Every source becomes rows of :class:`~storage.models.Publication` columns, validated the same
way, then :func:`upsert` writes them keyed by (``domain``, ``pub_id``): a new key is inserted, a
known key updated when a value differs, and left alone when none does, so importing the same
data twice changes nothing. Columns a source does not carry (a WebAPI list says nothing of
the printed copy or a local file) keep their values.

Sources:

* **WebAPI list JSON** (``*.json``): the answer of ``list/model/publication``,
  ``{"status": "OK", "data-availability": "available", "data": [{page, pages, per_page, count,
  total}, [{pub_id, title, abstract, issn, sch_date, rl_date, updt_date, cover, pdf, size},
  …]]}``. ``{"data-availability": "list-not-available"}`` and ``{"status": "Error", "message":
  …}`` raise :class:`CatalogueError`. The list does not name its domain: pass ``domain``, or
  each row's domain is found from the host of its ``pdf``/``cover`` link
  (``pinrangkab.bps.go.id`` → ``7315``).
* **CSV** (``*.csv``, UTF-8, header row): ``domain,pub_id,title,abstract,issn,kat_no,pub_no,
  sch_date,rl_date,updt_date,cover,pdf,size,subject,printed_copy``. ``domain`` and ``title``
  are required, the other columns optional; dates ``YYYY-MM-DD``; ``printed_copy`` one of
  ``1/0``, ``true/false``, ``ya/tidak``, ``yes/no``.
* **JSONL** (``*.jsonl``): one JSON object per line, the format of ``data/publications.jsonl``:
  the CSV keys (``pdf``, ``cover``) plus ``url``, ``year``, ``local_file``, ``verified``,
  ``provenance`` (or ``provenance_quality``), ``source`` and ``notes``.

A row without ``pub_id`` gets ``sha1-<20 hex digits of the SHA-1 of its title>``, stable across
imports. The year of a row is its ``year``, else the last year in its title, else the year of
its release or scheduled date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from catalogue import modelled
from catalogue.abbreviations import title_years
from catalogue.regions import domain_by_host
from storage.db import Database
from storage.models import Publication

DATA = Path(__file__).with_name("data")
WEBAPI_URL = "https://webapi.bps.go.id/v1/api"
CSV_COLUMNS = (
    "domain", "pub_id", "title", "abstract", "issn", "kat_no", "pub_no", "sch_date", "rl_date",
    "updt_date", "cover", "pdf", "size", "subject", "printed_copy",
)  # fmt: skip
MAX_PAGES = 1000  # a WebAPI list longer than this is taken for a fault, not read on
# Column → longest value (the lengths of storage/models.py, checked here so that SQLite, which
# does not enforce them, refuses the same rows as PostgreSQL).
LIMITS = {
    "domain": 4, "pub_id": 64, "issn": 32, "kat_no": 32, "pub_no": 32, "local_file": 300,
    "size": 32, "subject": 120, "provenance": 60,
}  # fmt: skip
TRUE = frozenset({"1", "true", "ya", "yes", "y"})
FALSE = frozenset({"0", "false", "tidak", "no", "n", ""})


class CatalogueError(Exception):
    """A catalogue source cannot be read: the message says which and why."""


@dataclass(frozen=True)
class Skipped:
    """A record left out: ``where`` it was (``file.csv:12``, ``page 2 item 3``) and why."""

    where: str
    reason: str


@dataclass
class ImportCounts:
    """What an import did. ``str()`` gives ``"3 inserted, 1 updated, 0 unchanged, 1 skipped"``."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.inserted} inserted, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped"
        )


@dataclass
class Batch:
    """Rows ready for :func:`upsert` and the records skipped on the way."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, where: str, record: dict[str, Any]) -> None:
        """Validate ``record`` (source keys) into a row, or note why it was skipped."""
        try:
            self.rows.append(to_row(record))
        except ValueError as exc:
            self.skipped.append(Skipped(where, str(exc)))


@dataclass
class WebApiPage:
    """One page of a WebAPI publication list: its ``page`` of ``pages`` and its records."""

    page: int
    pages: int
    records: list[dict[str, Any]]


def parse_webapi(payload: Any) -> WebApiPage:
    """Read a WebAPI ``list/model/publication`` answer (parsed JSON).

    Raises:
        CatalogueError: an error body (``status`` not ``OK``: its ``message``), no list
            (``data-availability`` ``list-not-available``), or not that shape at all.
    """
    if not isinstance(payload, dict):
        raise CatalogueError("not a BPS WebAPI answer: expected a JSON object")
    if payload.get("status") != "OK":
        message = payload.get("message") or payload.get("status") or "no message"
        raise CatalogueError(f"the BPS WebAPI answered with an error: {message}")
    if payload.get("data-availability") == "list-not-available":
        raise CatalogueError(
            "the BPS WebAPI has no publication list for this request "
            "(data-availability: list-not-available): check the domain code"
        )
    data = payload.get("data")
    if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], dict)):
        raise CatalogueError("not a BPS WebAPI publication list: expected data = [{page…}, […]]")
    info, records = data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise CatalogueError("not a BPS WebAPI publication list: data[1] is not a list of objects")
    try:
        return WebApiPage(int(info.get("page", 1)), int(info.get("pages", 1)), records)
    except (TypeError, ValueError) as exc:
        raise CatalogueError(f"not a BPS WebAPI publication list: bad page ({exc})") from exc


def webapi_batch(
    page: WebApiPage, domain: str | None, source: dict[str, Any], batch: Batch
) -> None:
    """Add the records of a WebAPI ``page`` to ``batch``, with ``domain`` or the one their links
    name, ``provenance`` ``webapi`` and ``source``."""
    for n, record in enumerate(page.records, 1):
        where = f"page {page.page} item {n}"
        code = domain or _domain_from_links(record)
        extra = {"domain": code, "provenance": "webapi", "source": source}
        if code is None:
            batch.skipped.append(Skipped(where, "domain unknown: give the domain code"))
        else:
            batch.add(where, {**record, **extra})


def csv_batch(text: str, name: str) -> Batch:
    """Read CSV ``text`` (see the module docstring) from the file called ``name``.

    Raises:
        CatalogueError: no header, or a column that is not one of :data:`CSV_COLUMNS`.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if not header or unknown or not {"domain", "title"} <= set(header):
        raise CatalogueError(
            f"{name}: the header must name columns of {','.join(CSV_COLUMNS)} "
            f"including domain and title (unknown: {', '.join(unknown) or 'none'})"
        )
    batch = Batch()
    for record in reader:
        where = f"{name}:{reader.line_num}"
        if None in record:
            batch.skipped.append(Skipped(where, "more fields than columns"))
            continue
        values = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in record.items()}
        values.update(provenance="csv", source={"type": "csv", "file": name})
        batch.add(where, values)
    return batch


def jsonl_batch(lines: Iterable[str], name: str) -> Batch:
    """Read JSON Lines records (the format of ``data/publications.jsonl``) from ``name``."""
    batch = Batch()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.skipped.append(Skipped(f"{name}:{n}", f"not JSON: {exc.msg}"))
            continue
        if not isinstance(record, dict):
            batch.skipped.append(Skipped(f"{name}:{n}", "not a JSON object"))
            continue
        batch.add(f"{name}:{n}", record)
    return batch


def to_row(record: dict[str, Any]) -> dict[str, Any]:
    """Publication columns from a source record (keys of the CSV/JSONL/WebAPI formats).

    ``domain``, ``pub_id``, ``title``, ``year`` and ``source`` are always set; another column
    only when the record has its key, so that what a source does not carry is left alone.

    Raises:
        ValueError: no usable domain or title, a bad date, flag or year, or a value too long;
            the message says which.
    """
    domain = _text(record.get("domain"))
    title = " ".join((_text(record.get("title")) or "").split())
    if not (domain and len(domain) == 4 and domain.isdigit()):
        raise ValueError(f"domain must be a 4-digit BPS domain code, not {domain!r}")
    if not title:
        raise ValueError("title is missing")
    row: dict[str, Any] = {
        "domain": domain,
        "pub_id": _text(record.get("pub_id")) or _derived_pub_id(title),
        "title": title,
        "source": _source(record),
    }
    if "provenance_quality" in record:
        row["provenance"] = _text(record["provenance_quality"])
    for key, (column, convert) in COLUMNS.items():
        if key in record:
            try:
                row[column] = convert(record[key])
            except ValueError as exc:
                raise ValueError(f"{key} {exc}") from None
    row["year"] = row.pop("year", None) or _year(row)
    for column, limit in LIMITS.items():
        if row.get(column) is not None and len(row[column]) > limit:
            raise ValueError(f"{column} is longer than {limit} characters")
    return row


def upsert(db: Database, rows: Iterable[dict[str, Any]]) -> ImportCounts:
    """Insert or update ``rows`` (from :func:`to_row`) by (``domain``, ``pub_id``) in one
    transaction. A key seen twice keeps its first row; later ones are skipped. Works the same
    on SQLite and PostgreSQL (existing rows are read, compared and changed through the ORM).

    Raises:
        sqlalchemy.exc.IntegrityError: another process inserted one of the keys meanwhile.
    """
    counts = ImportCounts()
    batch: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["domain"], row["pub_id"])
        if key in batch:
            counts.skipped.append(Skipped(f"{key[0]}/{key[1]}", "the same domain and pub_id again"))
        else:
            batch[key] = row
    with db.transaction() as session:
        domains = sorted({domain for domain, _ in batch})
        existing = {
            (p.domain, p.pub_id): p
            for p in session.scalars(select(Publication).where(Publication.domain.in_(domains)))
        }
        for key, row in batch.items():
            publication = existing.get(key)
            if publication is None:
                session.add(Publication(**row))
                counts.inserted += 1
            elif any(getattr(publication, k) != v for k, v in row.items()):
                for column, value in row.items():
                    setattr(publication, column, value)
                counts.updated += 1
            else:
                counts.unchanged += 1
    return counts


def read_file(path: Path, domain: str | None = None) -> Batch:
    """Read a catalogue file by its suffix: ``.json`` (WebAPI list, with ``domain`` or the
    domain of its links), ``.csv`` or ``.jsonl``.

    Raises:
        CatalogueError: an unknown suffix, a file that is not UTF-8 or not JSON, or a WebAPI
            error/no-list body (see :func:`parse_webapi`).
        OSError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{path.name}: not UTF-8 text") from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return csv_batch(text, path.name)
    if suffix == ".jsonl":
        return jsonl_batch(text.splitlines(), path.name)
    if suffix == ".json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogueError(f"{path.name}: not JSON ({exc.msg}, line {exc.lineno})") from exc
        try:
            page = parse_webapi(payload)
        except CatalogueError as exc:
            raise CatalogueError(f"{path.name}: {exc}") from exc
        batch = Batch()
        webapi_batch(page, domain, {"type": "webapi", "file": path.name}, batch)
        return batch
    raise CatalogueError(f"{path.name}: unknown file type (use .json, .csv or .jsonl)")


def import_file(db: Database, path: Path, domain: str | None = None) -> ImportCounts:
    """Read ``path`` (:func:`read_file`) and upsert its rows into ``db``; return the counts."""
    batch = read_file(path, domain)
    counts = upsert(db, batch.rows)
    counts.skipped[:0] = batch.skipped
    return counts


def load_default(db: Database) -> ImportCounts:
    """Load the shipped catalogue: the real records of ``data/publications.jsonl`` and the
    modelled ones of :mod:`catalogue.modelled`. Idempotent (a second call changes nothing).
    The one real record without a domain (ambiguous kecamatan) is counted as skipped."""
    path = DATA / "publications.jsonl"
    with path.open(encoding="utf-8") as lines:
        batch = jsonl_batch(lines, path.name)
    extra = modelled.publications(batch.rows)
    rows = batch.rows + [to_row(row) for row in extra]
    counts = upsert(db, rows)
    counts.skipped[:0] = batch.skipped
    return counts


def sync(
    db: Database,
    domain: str,
    key: str,
    base_url: str = WEBAPI_URL,
    *,
    timeout: float = 30.0,
    backoff: float = 0.5,
) -> ImportCounts:
    """Fetch every page of ``domain``'s publication list from the BPS WebAPI and upsert it.

    The URL is ``{base_url}/list/model/publication/lang/ind/domain/{domain}/page/{n}/key/{key}/``
    (WebAPI v1, path form). Connection failures, HTTP 429 and 5xx are retried: 4 attempts,
    waiting ``backoff`` seconds, then twice as long each time. Messages never contain ``key``.

    Raises:
        CatalogueError: a bad domain code or empty key, an error or no-list answer, more than
            :data:`MAX_PAGES` pages, or the WebAPI unreachable after the retries.
    """
    if not (len(domain) == 4 and domain.isdigit()):
        raise CatalogueError(f"domain must be a 4-digit BPS domain code, not {domain!r}")
    if not key:
        raise CatalogueError("a BPS WebAPI key is needed (BPS_WEBAPI_KEY)")
    list_url = f"{base_url.rstrip('/')}/list/model/publication/lang/ind/domain/{domain}"
    batch = Batch()
    with httpx.Client(timeout=timeout) as client:
        for page in _pages(client, list_url, key, backoff):
            webapi_batch(page, domain, {"type": "webapi", "url": f"{list_url}/"}, batch)
    counts = upsert(db, batch.rows)
    counts.skipped[:0] = batch.skipped
    return counts


class _Retry(Exception):
    """A WebAPI answer worth trying again (HTTP 429 or 5xx)."""


def _pages(client: httpx.Client, list_url: str, key: str, backoff: float) -> Iterator[WebApiPage]:
    number, pages = 1, 1
    while number <= pages:
        page = parse_webapi(_get(client, f"{list_url}/page/{number}/key/{key}/", key, backoff))
        if page.pages > MAX_PAGES:
            raise CatalogueError(f"the WebAPI announces {page.pages} pages: more than {MAX_PAGES}")
        yield page
        number, pages = number + 1, page.pages


def _get(client: httpx.Client, url: str, key: str, backoff: float) -> Any:
    shown = url.replace(key, "***")
    retrying = Retrying(
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=backoff, max=8),
        retry=retry_if_exception_type((httpx.TransportError, _Retry)),
        reraise=True,
    )
    try:
        response = retrying(_fetch, client, url)
    except (httpx.TransportError, _Retry) as exc:
        reason = str(exc).replace(key, "***") or type(exc).__name__
        raise CatalogueError(f"BPS WebAPI unreachable at {shown}: {reason}") from None
    try:
        return response.json()
    except ValueError:
        raise CatalogueError(f"BPS WebAPI {shown}: HTTP {response.status_code}, not JSON") from None


def _fetch(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    if response.status_code == 429 or response.status_code >= 500:
        raise _Retry(f"HTTP {response.status_code}")
    return response


def _domain_from_links(record: dict[str, Any]) -> str | None:
    for link in (record.get("pdf"), record.get("cover")):
        if isinstance(link, str) and link:
            code = domain_by_host(urlsplit(link).hostname or "")
            if code:
                return code
    return None


def _derived_pub_id(title: str) -> str:
    return "sha1-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:20]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _code(value: Any) -> str | None:
    """An ISSN or catalogue number; the WebAPI writes ``-`` for none."""
    text = _text(value)
    return None if text in (None, "-") else text


def _date(value: Any) -> dt.date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"is not a date YYYY-MM-DD: {text!r}") from None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ValueError(f"must be 1/0, true/false, ya/tidak or yes/no, not {value!r}")


def _number(value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"must be a number, not {text!r}") from None


def _year(row: dict[str, Any]) -> int | None:
    """The last year in the title, else the year of the release or scheduled date."""
    named = title_years(row["title"])
    if named:
        return named[-1]
    dates = [row.get(k) for k in ("rl_date", "sch_date") if row.get(k) is not None]
    return dates[0].year if dates else None


def _source(record: dict[str, Any]) -> dict[str, Any]:
    """The record's ``source`` with its notes, so a row tells where it came from."""
    source = dict(record.get("source") or {})
    for key in ("notes", "document_copy_url", "rl_date_source"):
        if record.get(key):
            source.setdefault(key, record[key])
    return source


# Source key → (column, conversion); a conversion raises ValueError saying what is wrong.
COLUMNS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "abstract": ("abstract", _text),
    "issn": ("issn", _code),
    "kat_no": ("kat_no", _code),
    "pub_no": ("pub_no", _code),
    "sch_date": ("sch_date", _date),
    "rl_date": ("rl_date", _date),
    "updt_date": ("updt_date", _date),
    "cover": ("cover_url", _text),
    "pdf": ("pdf_url", _text),
    "url": ("url", _text),
    "size": ("size", _text),
    "subject": ("subject", _text),
    "local_file": ("local_file", _text),
    "printed_copy": ("printed_copy", _flag),
    "verified": ("verified", _flag),
    "provenance": ("provenance", _text),
    "year": ("year", _number),
}
