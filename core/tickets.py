"""Ticket numbers: ``{kind}-{office}-{YYYYMMDD}-{NNNN}`` (e.g. ``PS-6106-20261121-0007``).

The date is the office's local date; ``NNNN`` counts that kind's tickets of the office that day.
Two tickets made at the same instant collide on the unique number; the loser takes the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from office.config import Office
from storage.models import Ticket, TicketEvent, Visitor

T = TypeVar("T")


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
    ticket = add_first_free(
        session,
        taken + 1,
        lambda seq: Ticket(
            number=f"{prefix}{seq:04d}",
            kind=kind,
            office_code=office.code,
            visitor=visitor,
            summary=summary,
            details=details or {},
            due_at=due_at.astimezone(dt.UTC).replace(tzinfo=None) if due_at else None,
            events=[TicketEvent(status="baru")],
        ),
    )
    if ticket is None:
        raise RuntimeError(f"no free ticket number for {prefix}")
    return ticket


def add_first_free(session: Session, first: int, build: Callable[[int], T]) -> T | None:
    """Add ``build(n)`` for n = ``first``, ``first`` + 1, … until one inserts without breaking
    a unique constraint (someone took that number at the same instant); tries 49 numbers and
    returns None when all are taken."""
    for seq in range(first, first + 49):
        row = build(seq)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row
    return None
