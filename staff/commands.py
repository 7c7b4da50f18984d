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

What the commands do to a ticket is ``staff/ticket_actions.py``, shared with the web desk
(``desk/``); this module parses the commands and answers in the chat.

Only the office's ``staff_user_ids`` may use them (config.yaml). What reaches a WhatsApp visitor
silent for more than 24 hours is decided when it is sent (:mod:`core.window`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.address import Address
from core.engine import Enter, Inbound, Notice, Reply
from core.texts import Texts
from handlers import handover, privacy
from office.config import Office, PstConfig
from staff import ticket_actions as actions
from staff.ticket_actions import OPEN
from storage.models import Ticket, utcnow


class Desk:
    """One staff command: the office, the sender, and what to say to whom."""

    def __init__(
        self, session: Session, inbound: Inbound, office: Office, texts: Texts, email: bool
    ):
        self.session, self.inbound, self.office, self.texts = session, inbound, office, texts
        self.email = email  # whether an email sender exists
        self.notices: list[Notice | Enter] = []  # and the flows staff actions start

    def t(self, key: str, **values) -> str:
        return self.texts.get("id", key, **values)

    def answer(self, key: str, **values) -> None:
        """Reply in the staff chat, in the topic the command came from."""
        where = Address.in_thread("telegram", self.inbound.chat_id, self.inbound.thread_id)
        self.notices.append(Notice(where, Reply(self.t(key, **values))))

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
) -> Callable[[Session, Inbound], list[Notice | Enter]]:
    """The function the engine runs for a staff chat message; ``email``: whether notices can
    go by email (an SMTP sender is configured)."""

    def run(session: Session, inbound: Inbound) -> list[Notice | Enter]:
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
    command = " ".join((inbound.payload or inbound.text).split(maxsplit=2)[:2])
    again = f" dengan {command}" if command.startswith("/") else ""
    text = texts.get("id", "staff_file_not_fetched", reason=reason, again=again)
    where = Address.in_thread("telegram", inbound.chat_id, inbound.thread_id)
    return [Notice(where, Reply(text))]


def relay(desk: Desk) -> None:
    """A staff message in a hand-over topic goes to the visitor."""
    ticket = desk.topic_ticket()
    if ticket is None:
        return  # talk outside an open hand-over is not for the bot
    inbound = desk.inbound
    if inbound.file_too_big:
        desk.answer("staff_file_too_big", number=ticket.number)
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
    desk.notices += actions.close(desk.session, desk.office, ticket, by, desk.texts)


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


def _act(
    desk: Desk, args: list[str], action: Callable[[Ticket], list[Notice | Enter]]
) -> Ticket | None:
    """Run ``action`` on the ticket named first in ``args``; answer in the chat when there is no
    such ticket or the action is refused. Returns the ticket acted on, or None."""
    ticket = desk.ticket(args[0]) if args else None
    if ticket is None:
        desk.answer("staff_unknown_ticket", number=args[0] if args else "-")
        return None
    try:
        desk.notices += action(ticket)
    except actions.Refused as refused:
        desk.answer(refused.key, **refused.values)
        return None
    return ticket


def take(desk: Desk, args: list[str]) -> None:
    name = desk.inbound.display_name or desk.inbound.user_id
    if ticket := _act(
        desk, args, lambda t: actions.take(t, desk.inbound.user_id, name, desk.texts)
    ):
        desk.answer("staff_taken", number=ticket.number, name=ticket.assigned_to)


def ready(desk: Desk, args: list[str]) -> None:
    file_path = desk.inbound.file_path

    def mark_ready(ticket: Ticket) -> list[Notice | Enter]:
        if desk.inbound.file_too_big:
            raise actions.Refused("staff_file_too_big", number=ticket.number)
        if not file_path and ticket.status in OPEN:
            raise actions.Refused("staff_ready_needs_file", number=ticket.number)
        return actions.ready(
            desk.session,
            desk.office,
            ticket,
            desk.inbound.user_id,
            file_path,
            desk.texts,
            desk.email,
        )

    if ticket := _act(desk, args, mark_ready):
        desk.answer("staff_ready", number=ticket.number)


def refuse(desk: Desk, args: list[str]) -> None:
    reason = args[1] if len(args) > 1 else ""

    def refuse_it(ticket: Ticket) -> list[Notice]:
        return actions.refuse(ticket, desk.inbound.user_id, reason, desk.texts)

    if ticket := _act(desk, args, refuse_it):
        desk.answer("staff_refused", number=ticket.number)


COMMANDS = {
    "/tiket": list_tickets,
    "/ambil": take,
    "/siap": ready,
    "/tolak": refuse,
    "/selesai": finish,
    "/kontak": privacy.contact,
}
