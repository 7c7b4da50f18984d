"""*Status*: every ticket of the visitor with its status and due date ("status", "cek PD-…").

| state       | shows                                 | goes to                         |
|-------------|---------------------------------------|---------------------------------|
| status.list | the visitor's tickets, newest first   | menu.main, or the service typed |
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.engine import Option, State, Turn
from handlers import menu
from office.dates import shown_date
from storage.models import Ticket

SHOWN = 10


def prompt(turn: Turn) -> None:
    tickets = turn.session.scalars(
        select(Ticket).where(Ticket.visitor_id == turn.visitor.id).order_by(Ticket.id.desc())
    ).all()
    wanted = turn.slots.pop("status_number", None)
    if wanted:
        tickets = [t for t in tickets if t.number == wanted]
    if not tickets:
        turn.say(
            turn.t("status_none_number" if wanted else "status_none", number=wanted or ""),
            [Option("menu", turn.t("menu_back"))],
        )
        return
    lines = [ticket_line(turn, t) for t in tickets[:SHOWN]]
    turn.say(
        turn.t("status_header") + "\n\n" + "\n\n".join(lines), [Option("menu", turn.t("menu_back"))]
    )


def ticket_line(turn: Turn, ticket: Ticket) -> str:
    """Number, kind, status and (for open tickets) the due date in the office's time zone."""
    status = turn.t(f"status_{ticket.status}")
    line = (
        f"{ticket.number} — {turn.t(f'kind_{ticket.kind}')}\n"
        f"{ticket.summary[:120]}\n{turn.t('status_label')}: {status}"
    )
    if ticket.due_at and ticket.status in ("baru", "diproses"):
        tz = turn.pst.office(ticket.office_code).tz
        due = ticket.due_at.replace(tzinfo=dt.UTC).astimezone(tz).date()
        line += "\n" + turn.t("status_due", due=shown_date(due, turn.visitor.lang))
    return line


def handle(turn: Turn) -> str:
    return to_menu(turn)


def to_menu(turn: Turn) -> str:
    """Leave a list or a finished ticket for the menu; words typed there ("konsultasi") are
    read as a choice of the main menu instead of being dropped."""
    if turn.choice == "menu" or not turn.text:
        return "menu.main"
    turn.offer([Option(key, turn.t(f"menu_{key}")) for key in menu.ENTRIES])
    return menu.handle_main(turn)


STATES = {"status.list": State(prompt, handle)}
