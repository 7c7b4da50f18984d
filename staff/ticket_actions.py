"""What staff do to a ticket — take, mark ready with a file, refuse, close — in one place, behind
both the staff Telegram commands (``staff/commands.py``) and the web desk (``desk/``).

Each action changes the ticket (status history included) and returns the notices for the
visitor (and the rating survey to start, an ``Enter``); the caller runs it inside the engine's
transaction (``Engine.handle_staff`` or ``Engine.run_job``), which writes them to the outbox.
An action that cannot be done raises :class:`Refused` naming the staff text that says why.

| action  | from status             | to status  | the visitor is told                         |
|---------|-------------------------|------------|---------------------------------------------|
| take    | baru, diproses          | diproses   | ``notice_processing``                       |
| ready   | baru, diproses          | siap       | ``notice_ready`` with the file; rating      |
| refuse  | baru, diproses          | ditolak    | ``notice_refused`` with the reason          |
| close   | KS/PG: baru, diproses   | selesai    | ``handover_closed_by_staff``; rating         |
|         | others: also siap       | selesai    | nothing (the service was delivered)         |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from core.address import Address
from core.engine import Enter, Notice, Reply
from core.texts import Texts
from handlers import handover, rating
from office.config import Office
from storage.models import Ticket

OPEN = ("baru", "diproses")
FINAL = ("selesai", "ditolak", "dibatalkan")
HANDED_OVER = ("KS", "PG")  # consultations and complaints live in a staff forum topic
WINDOW = dt.timedelta(hours=24)  # WhatsApp's customer service window
MIN_REASON = 3  # characters: "-" or "x" is not a reason a visitor can read


class Refused(Exception):
    """The action cannot be done: ``key`` is the staff text (core/locales/id.yaml) saying why,
    ``values`` fill it."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def _require(ticket: Ticket, statuses: tuple[str, ...]) -> None:
    if ticket.status not in statuses:
        raise Refused("staff_ticket_closed", number=ticket.number, status=ticket.status)


def _visitor_notice(texts: Texts, ticket: Ticket, key: str, **values: Any) -> Notice:
    visitor = ticket.visitor
    text = texts.get(visitor.lang, key, number=ticket.number, **values)
    return Notice.to_visitor(visitor, Reply(text), "tiket_diperbarui", ticket.number)


def take(ticket: Ticket, actor: str, name: str, texts: Texts) -> list[Notice]:
    """Assign an open ``ticket`` to staff member ``name`` (``actor`` is their id for the
    history) and set it ``diproses``.

    Raises:
        Refused: the ticket is not open.
    """
    _require(ticket, OPEN)
    ticket.assigned_to = name
    ticket.move("diproses", actor=actor)
    return [_visitor_notice(texts, ticket, "notice_processing")]


def ready(
    session: Session,
    office: Office,
    ticket: Ticket,
    actor: str,
    file_path: str,
    texts: Texts,
    email: bool = False,
) -> list[Notice | Enter]:
    """Set an open ``ticket`` ``siap`` with the data file (``file_path`` under the tickets
    folder) and send the visitor the "data ready" notice with it; ask for a rating unless the
    file is held until the visitor answers (see :func:`deliver_ready`; ``email``: whether an
    email sender exists).

    Raises:
        Refused: the ticket is not open.
    """
    _require(ticket, OPEN)
    ticket.details = {**ticket.details, "file": file_path}
    ticket.move("siap", actor=actor)
    notices = deliver_ready(texts, ticket, email)
    notices += rating.invite(session, ticket.visitor, office.code, "permintaan_data", ticket.number)
    return notices


def refuse(ticket: Ticket, actor: str, reason: str, texts: Texts) -> list[Notice]:
    """Set an open ``ticket`` ``ditolak`` with ``reason`` (kept in the history) and tell the
    visitor why.

    Raises:
        Refused: the ticket is not open, or ``reason`` is shorter than three characters.
    """
    _require(ticket, OPEN)
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise Refused("staff_refuse_needs_reason", number=ticket.number)
    ticket.move("ditolak", actor=actor, note=reason)
    return [_visitor_notice(texts, ticket, "notice_refused", reason=reason)]


def close(
    session: Session, office: Office, ticket: Ticket, by: str, texts: Texts
) -> list[Notice | Enter]:
    """Close ``ticket`` as staff member ``by``: a consultation or complaint through the hand-over
    close (topic and visitor told, rating asked); any other ticket not yet final is set
    ``selesai`` quietly.

    Raises:
        Refused: the ticket is already final (or, for KS/PG, not open).
    """
    _require(ticket, closable_from(ticket))
    if ticket.kind in HANDED_OVER:
        return handover.close(session, office, ticket, texts, by, "handover_closed_by_staff")
    ticket.move("selesai", actor=by)
    return []


def closable_from(ticket: Ticket) -> tuple[str, ...]:
    """The statuses ``ticket`` can be closed from: open, and for a ticket that is not a
    hand-over also ``siap`` (delivered, then closed)."""
    return OPEN if ticket.kind in HANDED_OVER else (*OPEN, "siap")


def deliver_ready(texts: Texts, ticket: Ticket, email: bool) -> list[Notice]:
    """The "data ready" notices with the file: on the visitor's channel (class ``data_siap``:
    outside WhatsApp's window a template goes first and the file follows the visitor's reply,
    :mod:`core.window`) and by email when the visitor asked for it and ``email`` (a sender)
    exists — else on the chat."""
    notices = []
    visitor = ticket.visitor
    file = handover.ticket_file(ticket.details["file"])
    text = texts.get(visitor.lang, "notice_ready", number=ticket.number)
    via = ticket.details.get("notify", "chat")
    if not (email and visitor.email):
        via = "chat"
    if via in ("chat", "keduanya"):
        reply = Reply(text, attachment=file)
        notices.append(Notice.to_visitor(visitor, reply, "data_siap", ticket.number))
    if via in ("email", "keduanya"):
        notices.append(
            Notice(Address("email", visitor.email), Reply(text, attachment=file), lang=visitor.lang)
        )
    return notices
