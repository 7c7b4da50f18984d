"""Ticket numbers: ``{kind}-{office}-{YYYYMMDD}-{NNNN}`` (e.g. ``PS-6106-20261121-0007``).

The date is the office's local date; ``NNNN`` counts that kind's tickets of the office that day.
Two tickets made at the same instant collide on the unique number; the loser takes the next one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Office
from storage.models import Ticket, TicketEvent, Visitor


def new_ticket(
    session: Session,
    kind: str,
    office: Office,
    visitor: Visitor,
    summary: str,
    details: dict[str, Any] | None = None,
    due_at: dt.datetime | None = None,
) -> Ticket:
    """Create and flush a ticket of ``kind`` (two letters) for ``visitor`` at ``office``.

    ``due_at`` is an aware datetime (stored as naive UTC).
    """
    prefix = f"{kind}-{office.code}-{dt.datetime.now(office.tz):%Y%m%d}-"
    taken = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.number.startswith(prefix))
    )
    for seq in range(taken + 1, taken + 50):
        ticket = Ticket(
            number=f"{prefix}{seq:04d}",
            kind=kind,
            office_code=office.code,
            visitor=visitor,
            summary=summary,
            details=details or {},
            due_at=due_at.astimezone(dt.UTC).replace(tzinfo=None) if due_at else None,
            events=[TicketEvent(status="baru")],
        )
        try:
            with session.begin_nested():
                session.add(ticket)
        except IntegrityError:
            continue
        return ticket
    raise RuntimeError(f"no free ticket number for {prefix}")
