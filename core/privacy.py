"""Personal data as UU No. 27/2022 (*Pelindungan Data Pribadi*) requires: the visitor's copy of
everything kept about them (Pasal 7), erasure on request or when consent is withdrawn (Pasal 8,
9), retention limits (Pasal 43–44), masked contacts for staff and an audit log.

What erasure touches is one list, :data:`RULES`: a table, its columns, what they become, which
rows belong to the visitors being erased and, for retention, which column dates a row. A table
added later (message texts, names) is erased by adding one :class:`Rule`.

Kept without identity, for the office's statistics (PermenPANRB 14/2017 IKM, service counts): a
rating's scores, a ticket's kind, dates and status, the download rows (the count).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, Select, String, Text, cast, literal, or_, select, update
from sqlalchemy.orm import Session

from core.address import SEPARATOR
from core.engine import Notice
from office.config import PstConfig
from storage.models import (
    AuditLog,
    Conversation,
    Download,
    InboundMessage,
    NluMiss,
    Outbox,
    Publication,
    Rating,
    Ticket,
    TicketEvent,
    Visit,
    Visitor,
    utcnow,
)

logger = logging.getLogger(__name__)
OPEN = ("baru", "diproses")
ERASED = {"dihapus": True}  # what a JSON column holding messages becomes
ERASED_PREFIX = "hapus-"  # an erased visitor's channel ids: hapus-<row id>
PROFILE = ("nama", "email", "telepon", "instansi", "pekerjaan", "tujuan")
EXPORTS = "exports"  # folder under the data dir: the visitors' JSON copies (kept a day)
EXPORT_ID = 16  # bytes of randomness in an export's id


def audit(
    session: Session,
    actor: str,
    action: str,
    visitor_id: int | None = None,
    ticket_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write one :class:`AuditLog` row (UTC now). ``detail`` must hold no personal data."""
    session.add(
        AuditLog(
            actor=actor, action=action, visitor_id=visitor_id, ticket_id=ticket_id, detail=detail
        )
    )


# --- masking ---------------------------------------------------------------------------------


def mask_phone(number: str | None) -> str:
    """``+6281312341234`` → ``0813****1234``: the national form with all but the first four and
    the last four digits hidden (enough to tell numbers apart, not to call); "-" when empty."""
    if not number:
        return "-"
    try:
        parsed = phonenumbers.parse(number, "ID")
        digits = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        digits = number
    digits = "".join(ch for ch in digits if ch.isdigit())
    if len(digits) <= 8:
        return "*" * len(digits)
    return f"{digits[:4]}****{digits[-4:]}"


def mask_email(address: str | None) -> str:
    """``siti@example.org`` → ``s***@example.org``; "-" when empty."""
    if not address:
        return "-"
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def consent_version(template: str) -> str:
    """The version of a consent text: the first 12 hex digits of the SHA-256 of its template
    (the locale text before the office's details are filled in). A changed text is a new
    version."""
    return hashlib.sha256(template.encode()).hexdigest()[:12]


# --- see my data -----------------------------------------------------------------------------


def export(session: Session, visitor: Visitor, pst: PstConfig) -> dict[str, Any]:
    """Everything kept about ``visitor``, as JSON-ready data: ``profil`` (the guest book, the
    consent version and time), ``tiket`` (kind, status, texts, dates, history), ``penilaian``
    (scores 1–4 and comment), ``unduhan`` (publication title and time). Times are ISO 8601 UTC."""
    tickets = session.scalars(
        select(Ticket).where(Ticket.visitor_id == visitor.id).order_by(Ticket.id)
    ).all()
    ratings = session.scalars(
        select(Rating).where(Rating.visitor_id == visitor.id).order_by(Rating.id)
    ).all()
    downloads = session.execute(
        select(Download, Publication.title)
        .join(Publication, Download.publication_id == Publication.id)
        .where(Download.visitor_id == visitor.id)
        .order_by(Download.id)
    ).all()
    office = next((o for o in pst.offices if o.code == visitor.office_code), None)
    return {
        "pengendali_data": office.nama if office else None,
        "dibuat_pada": _iso(utcnow()),
        "profil": {
            "saluran": visitor.channel,
            "nama_tampilan": visitor.display_name,
            "nomor_whatsapp": visitor.wa_phone,
            **{f: getattr(visitor, f) for f in PROFILE},
            "kantor": visitor.office_code,
            "bahasa": visitor.lang,
            "persetujuan_pada": _iso(visitor.consent_at),
            "versi_persetujuan": visitor.consent_version,
            "pertama_kali": _iso(visitor.created_at),
            "pesan_terakhir": _iso(visitor.last_inbound_at),
        },
        "tiket": [_ticket(t) for t in tickets],
        "penilaian": [
            {
                "layanan": r.service,
                "rujukan": r.ref,
                **{f"u{i}": getattr(r, f"u{i}") for i in range(1, 10)},
                "komentar": r.comment,
                "dinilai_pada": _iso(r.answered_at),
            }
            for r in ratings
        ],
        "unduhan": [
            {"publikasi": title, "kode": d.download_id, "pada": _iso(d.created_at)}
            for d, title in downloads
        ],
    }


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "nomor": ticket.number,
        "jenis": ticket.kind,
        "status": ticket.status,
        "ringkasan": ticket.summary,
        "rincian": {k: v for k, v in ticket.details.items() if k != "file"},
        "dibuat_pada": _iso(ticket.created_at),
        "batas_waktu": _iso(ticket.due_at),
        "riwayat": [
            {"status": e.status, "catatan": e.note, "pada": _iso(e.at)} for e in ticket.events
        ],
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.replace(tzinfo=dt.UTC).isoformat() if moment else None


def new_export(session: Session, visitor: Visitor) -> str:
    """Register an export of ``visitor``'s data (audited) and return its id, the key of the
    file ``ekspor/<id>`` that :func:`write_export` makes when it is sent."""
    export_id = secrets.token_urlsafe(EXPORT_ID)
    audit(session, "pengunjung", "ekspor", visitor.id, detail=export_id)
    return export_id


def write_export(session: Session, export_id: str, folder: Path, pst: PstConfig) -> Path:
    """Write the JSON file of export ``export_id`` under ``folder`` (made fresh each time, so a
    copy never outlives an erasure by more than its link) and return its path.

    Raises:
        LookupError: no such export, or its visitor has been erased since.
    """
    row = session.scalars(
        select(AuditLog).where(AuditLog.action == "ekspor", AuditLog.detail == export_id)
    ).first()
    visitor = session.get(Visitor, row.visitor_id) if row else None
    if visitor is None or visitor.user_id.startswith(ERASED_PREFIX):
        raise LookupError(export_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{export_id}.json"
    text = json.dumps(export(session, visitor, pst), ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


# --- erasure ---------------------------------------------------------------------------------

Rows = Callable[[Session, Select], ColumnElement[bool]]


@dataclass(frozen=True)
class Rule:
    """Erase ``columns`` of ``model`` to ``how`` (a value, or a function of the model giving a
    SQL expression) in the rows ``rows(session, visitor_ids)`` selects — ``visitor_ids`` is a
    SELECT of the visitors being erased. ``when`` names the column dating a row: retention
    erases rows older than the office's ``pesan_bulan`` (rules without it only go with the
    profile). ``finished`` keeps rows still in use out of both (open tickets, parked inbound
    messages, messages not sent yet — such as the answer to an erasure)."""

    model: Any
    columns: tuple[str, ...]
    how: Any
    rows: Rows
    when: str | None = None
    finished: Callable[[], ColumnElement[bool]] | None = None


def by(column: Any) -> Rows:
    """Rows whose ``column`` (a model attribute) holds one of the visitors' ids."""
    return lambda _session, ids: column.in_(ids)


def _of_tickets(_session: Session, ids: Select) -> ColumnElement[bool]:
    return TicketEvent.ticket_id.in_(select(Ticket.id).where(Ticket.visitor_id.in_(ids)))


def _inbound_of(session: Session, ids: Select) -> ColumnElement[bool]:
    """Kept inbound messages (parked, failed) sent by the visitors: the payload names them."""
    senders = set(
        session.execute(select(Visitor.channel, Visitor.user_id).where(Visitor.id.in_(ids)))
    )
    kept = session.execute(
        select(InboundMessage.id, InboundMessage.channel, InboundMessage.payload).where(
            InboundMessage.payload.is_not(None)
        )
    )
    mine = [i for i, channel, p in kept if (channel, str(p.get("user_id"))) in senders]
    return InboundMessage.id.in_(mine)


def _outbox_of(_session: Session, ids: Select) -> ColumnElement[bool]:
    """Messages to the visitors' chats, in their tickets' staff topics (``<chat>#<number>``),
    and staff-chat posts naming their tickets."""
    chats = select(Visitor.chat_id).where(Visitor.id.in_(ids))
    about = (
        select(Ticket.id)
        .where(
            Ticket.visitor_id.in_(ids),
            or_(
                Outbox.chat_id.endswith(literal(SEPARATOR) + Ticket.number),
                cast(Outbox.payload, Text).contains(Ticket.number),
            ),
        )
        .exists()
    )
    return or_(Outbox.chat_id.in_(chats), about)


def _tag(model: Any):
    """``hapus-<id>``: an erased visitor's channel ids, unique and naming nobody."""
    return literal(ERASED_PREFIX) + cast(model.id, String)


# Visitor rules come last: the others find the visitors' rows by their channel ids.
RULES: list[Rule] = [
    Rule(Conversation, ("slots",), {}, by(Conversation.visitor_id), "updated_at"),
    # An emptied conversation starts again (a flow's later steps expect its earlier answers).
    Rule(Conversation, ("state",), "", by(Conversation.visitor_id), "updated_at"),
    Rule(Ticket, ("summary",), "", by(Ticket.visitor_id), "created_at", lambda: _closed(Ticket)),
    Rule(
        Ticket, ("details",), ERASED, by(Ticket.visitor_id), "created_at", lambda: _closed(Ticket)
    ),
    Rule(TicketEvent, ("note",), None, _of_tickets, "at"),
    Rule(Rating, ("comment",), None, by(Rating.visitor_id), "asked_at"),
    Rule(
        InboundMessage,
        ("payload",),
        None,
        _inbound_of,
        "received_at",
        lambda: InboundMessage.status != "parked",
    ),
    Rule(Outbox, ("payload",), ERASED, _outbox_of, "created_at", lambda: _sent()),
    Rule(NluMiss, ("text",), "", by(NluMiss.visitor_id), "created_at"),
    # The walk-in guest book keeps the day, service and number, not who came.
    Rule(Visit, ("nama",), "-", by(Visit.visitor_id)),
    Rule(
        Visit, ("instansi", "pekerjaan", "email", "telepon", "tujuan"), None, by(Visit.visitor_id)
    ),
    Rule(Visitor, (*PROFILE, "display_name", "wa_phone", "reply_from"), None, by(Visitor.id)),
    Rule(Visitor, ("consent_at", "consent_version"), None, by(Visitor.id)),
    Rule(Visitor, ("user_id", "chat_id"), _tag, by(Visitor.id)),
]


def _closed(model: Any) -> ColumnElement[bool]:
    return model.status.not_in(OPEN)


def _sent() -> ColumnElement[bool]:
    """Outbox rows done with; pending ones (such as the answer to an erasure) go out intact."""
    return Outbox.status.in_(("sent", "failed"))


@dataclass
class Eraser:
    """Applies :data:`RULES` and deletes the files that name a person, under ``data_dir``:
    stamped softcopies (``downloads/<id>.pdf``), files sent in the visitors' tickets
    (``tickets/…``) and their export copies (``exports/<id>.json``)."""

    data_dir: Path
    rules: list[Rule] = field(default_factory=lambda: RULES)

    def erase(self, session: Session, visitor_ids: Iterable[int], dry_run: bool = False) -> dict:
        """Erase everything of the visitors (profile, slots, texts, payloads, files) in the
        open transaction; open tickets must be closed first (:func:`close_open_tickets`).
        Returns counts per ``table.column`` and ``files``; with ``dry_run`` only counts."""
        ids = select(Visitor.id).where(Visitor.id.in_(list(visitor_ids)))
        counts = self._files(session, ids, None, dry_run)
        wheres = [(rule, rule.rows(session, ids)) for rule in self.rules]
        return counts | self._apply(session, wheres, dry_run)

    def expire(
        self, session: Session, office_code: str, before: dt.datetime, dry_run: bool
    ) -> dict:
        """Retention: anonymise message texts of ``office_code``'s visitors dated before
        ``before`` (naive UTC) in rows no longer in use. Returns counts as :meth:`erase`."""
        ids = select(Visitor.id).where(Visitor.office_code == office_code)
        counts = self._files(session, ids, before, dry_run)
        wheres = [
            (rule, rule.rows(session, ids) & (getattr(rule.model, rule.when) < before))
            for rule in self.rules
            if rule.when
        ]
        return counts | self._apply(session, wheres, dry_run)

    @staticmethod
    def _apply(session: Session, wheres: list[tuple[Rule, Any]], dry_run: bool) -> dict[str, int]:
        """Find every rule's rows first (later rules change the ids earlier ones look up), then
        overwrite; counts per ``table.columns`` of rows that still held something."""
        found = []
        for rule, where in wheres:
            table = rule.model.__table__
            pending = or_(*(_not_erased(table.c[c], rule.how) for c in rule.columns))
            if rule.finished:
                where = where & rule.finished()
            found.append((rule, session.scalars(select(table.c.id).where(where, pending)).all()))
        counts: dict[str, int] = {}
        for rule, ids in (f for f in found if f[1]):
            key = f"{rule.model.__tablename__}.{'/'.join(rule.columns)}"
            counts[key] = counts.get(key, 0) + len(ids)
            if not dry_run:
                how = rule.how(rule.model) if callable(rule.how) else rule.how
                values = dict.fromkeys(rule.columns, how)
                session.execute(update(rule.model).where(rule.model.id.in_(ids)).values(**values))
        session.expire_all()
        return counts

    def _files(self, session: Session, ids: Select, before: dt.datetime | None, dry_run: bool):
        paths = set()
        downloads = select(Download.download_id).where(Download.visitor_id.in_(ids))
        if before is not None:
            downloads = downloads.where(Download.created_at < before)
        paths |= {self.data_dir / "downloads" / f"{d}.pdf" for d in session.scalars(downloads)}
        sent = select(Outbox.payload).where(_outbox_of(session, ids), Outbox.payload.is_not(None))
        if before is not None:
            sent = sent.where(Outbox.created_at < before)
        for payload in session.scalars(sent):
            key = _attachment_key(payload)
            if key and key.startswith("tiket/"):
                paths.add(self.data_dir / "tickets" / key.removeprefix("tiket/"))
        if before is None:
            exports = select(AuditLog.detail).where(
                AuditLog.action == "ekspor", AuditLog.visitor_id.in_(ids)
            )
            paths |= {self.data_dir / EXPORTS / f"{e}.json" for e in session.scalars(exports)}
        found = [p for p in paths if p.is_file()]
        if not dry_run:
            for path in found:
                path.unlink(missing_ok=True)
        return {"files": len(found)} if found else {}


def _not_erased(column, how) -> ColumnElement[bool]:
    """Rows where ``column`` still holds something to erase."""
    if callable(how):
        return ~cast(column, String).startswith(ERASED_PREFIX)
    if isinstance(how, dict):
        return cast(column, Text) != json.dumps(how) if how else cast(column, Text) != "{}"
    if how == "":
        return column != ""
    return column.is_not(None)


def _attachment_key(payload: dict[str, Any]) -> str | None:
    """The attachment key of an outbox payload, on any channel's payload shape."""
    if isinstance(payload.get("document"), dict):
        return payload["document"].get("key")
    if isinstance(payload.get("media_download"), list):
        return payload["media_download"][0]
    return payload.get("file")


def expired_visitors(session: Session, office_code: str, before: dt.datetime) -> list[int]:
    """Ids of ``office_code``'s visitors with a profile or a conversation whose last message
    (or first contact) is before ``before`` (naive UTC), not yet erased."""
    last = Visitor.last_inbound_at
    return list(
        session.scalars(
            select(Visitor.id).where(
                Visitor.office_code == office_code,
                ~Visitor.user_id.startswith(ERASED_PREFIX),
                or_(last < before, last.is_(None) & (Visitor.created_at < before)),
            )
        )
    )


def months_ago(now: dt.datetime, months: int) -> dt.datetime:
    """``now`` minus ``months`` calendar months (31 March − 1 month = 28/29 February)."""
    return now - relativedelta(months=months)


@dataclass
class Purge:
    """The retention job (UU 27/2022 Pasal 43–44) over every office of ``pst``: profiles of
    visitors silent for ``retensi.profil_bulan`` months are erased whole (open tickets closed,
    staff told); message texts older than ``retensi.pesan_bulan`` months are anonymised;
    export copies older than a day are deleted. ``close(session, visitor_ids, by_whom)`` closes
    the open tickets of visitors about to be erased and returns the notices telling staff."""

    pst: PstConfig
    eraser: Eraser
    close: Callable[[Session, list[int], str], list[Notice]]

    def run(self, session: Session, dry_run: bool = False) -> tuple[dict[str, int], list[Notice]]:
        """Purge in the open transaction; returns counts per kind (``profil`` visitors,
        ``table.column`` rows, ``files``) and the notices for staff. ``dry_run`` changes
        nothing and returns no notices."""
        now, counts, notices = utcnow(), {"profil": 0}, []
        for office in self.pst.offices:
            gone = expired_visitors(
                session, office.code, months_ago(now, office.retensi.profil_bulan)
            )
            counts["profil"] += len(gone)
            if gone and not dry_run:
                notices += self.close(session, gone, "sistem")
            _add(counts, self.eraser.erase(session, gone, dry_run) if gone else {})
            before = months_ago(now, office.retensi.pesan_bulan)
            _add(counts, self.eraser.expire(session, office.code, before, dry_run))
        _add(counts, self._old_exports(now, dry_run))
        if not dry_run and any(counts.values()):
            audit(session, "sistem", "retensi", detail=_summary(counts))
        return counts, notices

    def _old_exports(self, now: dt.datetime, dry_run: bool) -> dict[str, int]:
        folder = self.eraser.data_dir / EXPORTS
        limit = (now - dt.timedelta(days=1)).replace(tzinfo=dt.UTC).timestamp()
        old = [p for p in folder.glob("*.json") if p.stat().st_mtime < limit]
        if not dry_run:
            for path in old:
                path.unlink(missing_ok=True)
        return {"files": len(old)} if old else {}


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for key, count in more.items():
        total[key] = total.get(key, 0) + count


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)[:200]
