"""Staff commands in the office's staff chat (a Telegram group): work the tickets.

| command                         | does                                                        |
|---------------------------------|-------------------------------------------------------------|
| ``/tiket``                      | open tickets of the office with due dates, overdue first    |
| ``/ambil NOMOR``                | assign the ticket to oneself; status ``diproses``           |
| ``/siap NOMOR`` + a document    | status ``siap``; the file goes to the visitor ("data ready")|
| ``/tolak NOMOR alasan``         | status ``ditolak``; the visitor is told why                 |
| ``/selesai`` (in a topic)       | close the consultation/complaint of that hand-over topic    |
| ``/kontak NOMOR``               | the visitor's email and phone (audited; posts mask them)    |
| any other message in a topic    | relayed to the visitor as the PST officer's answer          |

Only the office's ``staff_user_ids`` may use them (config.yaml). A "data ready" notice to a
WhatsApp visitor who has been silent for more than 24 hours goes out as the office's approved
template (``whatsapp_templates.data_siap``); the file follows when the visitor answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Office, PstConfig
from bot.engine import Inbound, Notice, Reply
from bot.texts import Texts
from bot.workdays import previous_working_day
from handlers import handover, privacy, rating
from storage.models import Ticket, Visitor, utcnow

OPEN = ("baru", "diproses")
WINDOW = dt.timedelta(hours=24)  # WhatsApp's customer service window


class Desk:
    """One staff command: the office, the sender, and what to say to whom."""

    def __init__(
        self, session: Session, inbound: Inbound, office: Office, texts: Texts, email: bool
    ):
        self.session, self.inbound, self.office, self.texts = session, inbound, office, texts
        self.email = email  # whether an email sender exists
        self.notices: list[Notice] = []

    def t(self, key: str, **values) -> str:
        return self.texts.get("id", key, **values)

    def answer(self, key: str, **values) -> None:
        """Reply in the staff chat, in the topic the command came from."""
        chat = self.inbound.chat_id
        if self.inbound.thread_id:
            chat = f"{chat}#{self.inbound.thread_id}"
        self.notices.append(Notice("telegram", chat, Reply(self.t(key, **values))))

    def topic_ticket(self) -> Ticket | None:
        """The open hand-over ticket whose topic the message was written in."""
        if not self.inbound.thread_id:
            return None
        return self.session.scalars(
            select(Ticket).where(
                Ticket.office_code == self.office.code,
                Ticket.topic_id == self.inbound.thread_id,
                Ticket.status.in_(OPEN),
            )
        ).first()

    def ticket(self, number: str) -> Ticket | None:
        return self.session.scalars(
            select(Ticket).where(
                Ticket.number == number.upper(), Ticket.office_code == self.office.code
            )
        ).first()


def command_handler(
    pst: PstConfig, texts: Texts, email: bool = False
) -> Callable[[Session, Inbound], list[Notice]]:
    """The function the engine runs for a staff chat message; ``email``: whether notices can
    go by email (an SMTP sender is configured)."""

    def run(session: Session, inbound: Inbound) -> list[Notice]:
        office = next((o for o in pst.offices if str(o.staff_chat_id) == inbound.chat_id), None)
        if office is None:
            return []  # a group that is no office's staff chat
        desk = Desk(session, inbound, office, texts, email)
        words = (inbound.payload or inbound.text).split(maxsplit=2)
        command = words[0].lower() if words and words[0].startswith("/") else None
        if int(inbound.user_id) not in office.staff_user_ids:
            if command:  # other members' chatter in a topic is simply not relayed
                desk.answer("staff_not_allowed")
        elif command is None:
            relay(desk)
        elif command in COMMANDS:
            COMMANDS[command](desk, words[1:])
        else:
            desk.answer("staff_help")
        return desk.notices

    return run


def file_not_fetched(
    texts: Texts, reason: str, _session: Session, inbound: Inbound
) -> list[Notice]:
    """The answer to a staff message whose file could not be fetched from Telegram: nothing
    is done with the message; staff are told why, in the topic it came from."""
    chat = f"{inbound.chat_id}#{inbound.thread_id}" if inbound.thread_id else inbound.chat_id
    command = " ".join((inbound.payload or inbound.text).split(maxsplit=2)[:2])
    again = f" dengan {command}" if command.startswith("/") else ""
    text = texts.get("id", "staff_file_not_fetched", reason=reason, again=again)
    return [Notice("telegram", chat, Reply(text))]


def relay(desk: Desk) -> None:
    """A staff message in a hand-over topic goes to the visitor."""
    ticket = desk.topic_ticket()
    if ticket is None:
        return  # talk outside an open hand-over is not for the bot
    inbound = desk.inbound
    desk.notices += handover.relay_from_staff(
        ticket, inbound.text, inbound.file_path, inbound.file_name, desk.texts
    )


def finish(desk: Desk, _args: list[str]) -> None:
    """``/selesai`` in a hand-over topic closes the consultation or complaint."""
    ticket = desk.topic_ticket()
    if ticket is None:
        desk.answer("staff_finish_where")
        return
    by = desk.inbound.display_name or desk.inbound.user_id
    desk.notices += handover.close(
        desk.session, desk.office, ticket, desk.texts, by, "handover_closed_by_staff"
    )


def list_tickets(desk: Desk, _args: list[str]) -> None:
    tickets = desk.session.scalars(
        select(Ticket).where(Ticket.office_code == desk.office.code, Ticket.status.in_(OPEN))
    ).all()
    now = utcnow()
    tickets = sorted(tickets, key=lambda t: (t.due_at is None, t.due_at or now))
    if not tickets:
        desk.answer("staff_no_open_tickets")
        return
    lines = [_line(desk, t, now) for t in tickets]
    desk.answer("staff_open_tickets", count=len(tickets), lines="\n".join(lines))


def _line(desk: Desk, ticket: Ticket, now: dt.datetime) -> str:
    due = ""
    if ticket.due_at:
        day = ticket.due_at.replace(tzinfo=dt.UTC).astimezone(desk.office.tz).date()
        late = desk.t("staff_overdue") if ticket.due_at < now else ""
        due = f" · {format_date(day, 'EEE d MMM', locale='id')}{late}"
    who = f" · {ticket.assigned_to}" if ticket.assigned_to else ""
    return f"{ticket.number} · {ticket.status}{due}{who} · {ticket.summary[:60]}"


def _ticket_or_answer(desk: Desk, args: list[str]) -> Ticket | None:
    ticket = desk.ticket(args[0]) if args else None
    if ticket is None:
        desk.answer("staff_unknown_ticket", number=args[0] if args else "-")
    elif ticket.status not in OPEN:
        desk.answer("staff_ticket_closed", number=ticket.number, status=ticket.status)
        return None
    return ticket


def take(desk: Desk, args: list[str]) -> None:
    if (ticket := _ticket_or_answer(desk, args)) is None:
        return
    ticket.assigned_to = desk.inbound.display_name or desk.inbound.user_id
    ticket.move("diproses", actor=desk.inbound.user_id)
    desk.answer("staff_taken", number=ticket.number, name=ticket.assigned_to)
    _tell(desk, ticket.visitor, Reply(_visitor_text(desk, ticket, "notice_processing")))


def ready(desk: Desk, args: list[str]) -> None:
    if (ticket := _ticket_or_answer(desk, args)) is None:
        return
    if not desk.inbound.file_path:
        desk.answer("staff_ready_needs_file", number=ticket.number)
        return
    ticket.details = {**ticket.details, "file": desk.inbound.file_path}
    ticket.move("siap", actor=desk.inbound.user_id)
    desk.answer("staff_ready", number=ticket.number)
    deliver_ready(desk.notices, desk.office, desk.texts, ticket, desk.email)
    if not ticket.details.get("held"):  # a held file: the window is closed, ask later
        desk.notices += rating.invite(
            desk.session,
            ticket.visitor,
            desk.office.code,
            "permintaan_data",
            ticket.number,
            desk.texts,
        )


def refuse(desk: Desk, args: list[str]) -> None:
    if (ticket := _ticket_or_answer(desk, args)) is None:
        return
    if len(args) < 2 or len(args[1].strip()) < 3:
        desk.answer("staff_refuse_needs_reason", number=ticket.number)
        return
    ticket.move("ditolak", actor=desk.inbound.user_id, note=args[1].strip())
    desk.answer("staff_refused", number=ticket.number)
    _tell(
        desk,
        ticket.visitor,
        Reply(_visitor_text(desk, ticket, "notice_refused", reason=args[1].strip())),
    )


def deliver_ready(
    notices: list[Notice], office: Office, texts: Texts, ticket: Ticket, email: bool = True
) -> None:
    """Queue the "data ready" notice with the file: on the visitor's channel (a template when
    WhatsApp's 24-hour window is closed; the file is then held until the visitor answers) and
    by email when the visitor asked for it and ``email`` (a sender) exists — else on the chat."""
    visitor = ticket.visitor
    file = handover.ticket_file(ticket.details["file"])
    text = texts.get(visitor.lang, "notice_ready", number=ticket.number)
    via = ticket.details.get("notify", "chat")
    if not (email and visitor.email):
        via = "chat"
    if via in ("chat", "keduanya"):
        silent = visitor.last_inbound_at is None or utcnow() - visitor.last_inbound_at > WINDOW
        template = office.whatsapp_templates.get("data_siap")
        if visitor.channel == "whatsapp" and silent and template:
            variables = {"1": visitor.nama or "", "2": ticket.number}
            notices.append(Notice.to_visitor(visitor, Reply(text, template=(template, variables))))
            ticket.details = {**ticket.details, "held": True}
        else:
            notices.append(Notice.to_visitor(visitor, Reply(text, attachment=file)))
    if via in ("email", "keduanya"):
        notices.append(
            Notice("email", visitor.email, Reply(text, attachment=file), lang=visitor.lang)
        )


def held_files(session: Session, visitor: Visitor, texts: Texts) -> list[Reply]:
    """Files held back by a template notice, released now that the visitor wrote again."""
    tickets = session.scalars(
        select(Ticket).where(Ticket.visitor_id == visitor.id, Ticket.status == "siap")
    ).all()
    replies = []
    for ticket in (t for t in tickets if t.details.get("held")):
        ticket.details = {k: v for k, v in ticket.details.items() if k != "held"}
        replies.append(
            Reply(
                texts.get(visitor.lang, "notice_ready", number=ticket.number),
                attachment=handover.ticket_file(ticket.details["file"]),
            )
        )
    return replies


def _tell(desk: Desk, visitor: Visitor, reply: Reply) -> None:
    desk.notices.append(Notice.to_visitor(visitor, reply))


def _visitor_text(desk: Desk, ticket: Ticket, key: str, **values) -> str:
    return desk.texts.get(ticket.visitor.lang, key, number=ticket.number, **values)


def reminders(session: Session, pst: PstConfig, texts: Texts) -> list[Notice]:
    """Staff reminders for open tickets with a due date: once on the working day before it is
    due, and an alert once it is overdue (both in the office's staff chat)."""
    now = utcnow()
    notices = []
    open_tickets = session.scalars(  # consultations have their own timers (handover.py)
        select(Ticket).where(
            Ticket.status.in_(OPEN), Ticket.due_at.is_not(None), Ticket.kind != "KS"
        )
    ).all()
    for ticket in open_tickets:
        office = pst.office(ticket.office_code)
        if office.staff_chat_id is None:
            continue
        due = ticket.due_at.replace(tzinfo=dt.UTC).astimezone(office.tz)
        shown = format_date(due.date(), "full", locale="id")
        if now > ticket.due_at:
            flag, key = "overdue_alerted", "staff_overdue_alert"
        elif dt.datetime.now(office.tz).date() >= previous_working_day(office, due.date()):
            flag, key = "reminded", "staff_due_reminder"
        else:
            continue
        if ticket.details.get(flag):
            continue
        ticket.details = {**ticket.details, flag: True}
        text = texts.get("id", key, number=ticket.number, due=shown, summary=ticket.summary[:80])
        notices.append(Notice("telegram", str(office.staff_chat_id), Reply(text)))
    return notices


COMMANDS = {
    "/tiket": list_tickets,
    "/ambil": take,
    "/siap": ready,
    "/tolak": refuse,
    "/selesai": finish,
    "/kontak": privacy.contact,
}
