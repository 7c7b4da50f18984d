"""Hand-over to staff: a consultation (``KS``) or complaint (``PG``) ticket gets a forum topic in
the office's staff group; the visitor's messages go into the topic and what staff write there
comes back to the visitor, labelled as a PST officer's.

While relaying, the bot interprets only ``selesai``/``done`` (close) and ``menu`` (leave; the
ticket stays open and staff answers still arrive). Closing — by the visitor, by staff with
``/selesai``, or after seven idle days (:mod:`staff.jobs`) — tells both sides, closes the
topic and asks for a rating.

| state           | does                                   | goes to                      |
|-----------------|----------------------------------------|------------------------------|
| handover.active | relays the visitor's text and files    | rating.intro on "selesai"    |
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.address import Address
from core.engine import Attachment, Enter, Notice, Reply, State, Turn
from core.privacy import mask_email, mask_phone
from core.texts import Texts
from handlers import rating
from office.config import Office
from office.dates import shown_moment
from office.workdays import next_opening
from storage.models import Ticket, Visitor, utcnow

OPEN = ("baru", "diproses")
CLOSE_WORDS = {"selesai", "done"}  # the visitor closes the hand-over (Indonesian, English)


def topic(office: Office, ticket: Ticket) -> Address:
    """The ticket's staff topic (created when first used)."""
    return Address.of_ticket(office.staff_chat_id, ticket.number)


def open_thread(turn: Turn, ticket: Ticket, first_message: str) -> None:
    """Post the visitor's guest-book profile and first message into the new topic and tell the
    visitor a person will answer (and when, outside opening hours); the opening prompt then
    hands on to ``handover.active``, which says nothing more on entering."""
    office, v = turn.office, turn.visitor
    ticket.last_visitor_at = utcnow()
    header = turn.texts.get(
        "id",
        f"staff_topic_{ticket.kind}",
        number=ticket.number,
        name=v.nama,
        email=mask_email(v.email),  # staff see contacts with /kontak (audited)
        phone=mask_phone(v.telepon or v.wa_phone),
        institution=v.instansi,
        channel=v.channel,
        message=first_message,
    )
    turn.notices.append(Notice(topic(office, ticket), Reply(header)))
    turn.say(turn.t("handover_opened", number=ticket.number))
    opens = next_opening(office, dt.datetime.now(dt.UTC))
    if opens:
        when = shown_moment(opens, office.tz, office.zone_abbr, turn.visitor.lang)
        turn.say(turn.t("handover_office_closed", when=when))
    turn.slots["handover"] = ticket.number
    turn.slots["handover_quiet"] = True


def staffed(turn: Turn) -> bool:
    """True when the visitor's office has a staff chat to hand over to. Else the visitor is
    told plainly that no officer answers in this chat and given the office's own channels
    (config.yaml), rather than a promise that a message waits for an officer."""
    office = turn.office
    if office.staff_chat_id is not None:
        return True
    turn.say(
        turn.t(
            "handover_unstaffed",
            office=office.nama,
            phone=office.telepon,
            email=office.email,
            website=office.website,
        )
    )
    return False


def open_ticket(session: Session, visitor: Visitor, kinds: tuple[str, ...]) -> Ticket | None:
    """The visitor's open hand-over ticket of one of ``kinds``, newest first."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.visitor_id == visitor.id, Ticket.kind.in_(kinds), Ticket.status.in_(OPEN))
        .order_by(Ticket.id.desc())
    ).first()


def prompt_active(turn: Turn) -> None:
    if turn.slots.pop("handover_quiet", False):
        return
    turn.say(turn.t("handover_active", number=turn.slots["handover"]))


def handle_active(turn: Turn) -> str:
    ticket = _ticket(turn)
    if ticket is None or ticket.status not in OPEN:
        turn.slots.pop("handover", None)
        return "menu.main"
    if turn.text.casefold().strip(".! ") in CLOSE_WORDS:
        return close_by_visitor(turn, ticket)
    ticket.last_visitor_at, ticket.idle_warned = utcnow(), False
    relay_to_topic(turn, ticket, turn.inbound.text, turn.inbound.file_path, turn.inbound.file_name)
    turn.slots["handover_quiet"] = True  # a chat, not a form: no re-prompt after each message
    return "handover.active"


def relay_to_topic(
    turn: Turn, ticket: Ticket, text: str, file_path: str | None, file_name: str | None
) -> None:
    """Put a message of the visitor (text and file) into the ticket's topic."""
    label = turn.texts.get(
        "id",
        "staff_from_visitor",
        name=turn.visitor.nama or turn.visitor.display_name or "-",
        text=text or "-",
    )
    reply = Reply(label, attachment=ticket_file(file_path, file_name))
    turn.notices.append(Notice(topic(turn.office, ticket), reply))


def relay_from_staff(
    ticket: Ticket, text: str, file_path: str | None, file_name: str | None, texts: Texts
) -> list[Notice]:
    """A staff message from the topic to the visitor, on the visitor's channel."""
    ticket.last_staff_at = utcnow()
    if ticket.status == "baru":
        ticket.move("diproses")
    visitor = ticket.visitor
    body = texts.get(visitor.lang, "handover_from_staff", text=text) if text else ""
    reply = Reply(body, attachment=ticket_file(file_path, file_name))
    return [Notice.to_visitor(visitor, reply, "jawaban_petugas", ticket.number)]


def close(
    session: Session, office: Office, ticket: Ticket, texts: Texts, by: str, key: str
) -> list[Notice | Enter]:
    """Close ``ticket``: tell the topic (then closed) and the visitor (text ``key``), and invite
    the visitor to rate the service — the visitor is not in a conversation with us here."""
    ticket.move("selesai", actor=by)
    visitor = ticket.visitor
    staff_text = texts.get("id", "staff_topic_closed", number=ticket.number, by=by)
    notices = [
        Notice(topic(office, ticket), Reply(staff_text, end_thread=True)),
        Notice.to_visitor(
            visitor,
            Reply(texts.get(visitor.lang, key, number=ticket.number)),
            "konsultasi_ditutup",
            ticket.number,
        ),
    ]
    return notices + rating.invite(session, visitor, office.code, _service(ticket), ticket.number)


def close_by_visitor(turn: Turn, ticket: Ticket) -> str:
    ticket.move("selesai", actor="pengunjung")
    staff_text = turn.texts.get("id", "staff_topic_closed", number=ticket.number, by="pengunjung")
    turn.notices.append(Notice(topic(turn.office, ticket), Reply(staff_text, end_thread=True)))
    turn.slots.pop("handover", None)
    turn.say(turn.t("handover_closed_by_you", number=ticket.number))
    return rating.start(turn, _service(ticket), ticket.number) or "menu.main"


def ticket_file(path: str | None, name: str | None = None) -> Attachment | None:
    """The attachment of a file kept under the tickets folder (``path`` relative to it), shown
    as ``name`` or its own file name; None without a path."""
    return Attachment(f"tiket/{path}", name or path.rsplit("/", 1)[-1]) if path else None


def _service(ticket: Ticket) -> str:
    return "konsultasi" if ticket.kind == "KS" else "pengaduan"


def _ticket(turn: Turn) -> Ticket | None:
    number = turn.slots.get("handover")
    return turn.session.scalars(select(Ticket).where(Ticket.number == number)).first()


STATES = {"handover.active": State(prompt_active, handle_active)}
