"""The scheduled ticket jobs: staff reminders of due dates, of unanswered consultations, and the
idle close of consultations (with the warning the day before).

* due dates (not ``KS``): staff are reminded on the working day before (``due_reminded``) and
  alerted once the due time has passed (``overdue_alerted``);
* unanswered consultations (the visitor wrote last): staff are reminded once the office's
  answer time has passed (``unanswered_reminded``);
* idle consultations (staff wrote last): the visitor is warned after six days (``idle_warned``),
  the ticket closed after seven (:func:`handlers.handover.close`).

Seven idle days close a consultation (Bangka Selatan standard, online procedure step 16:
"…tidak merespon kembali selama 7 (tujuh) hari"); one whose last message is the visitor's is
never closed — staff are reminded once after the office's answer time (``konsultasi`` working
days) instead.

Each job is one SQL query on the ticket columns (index ``(status, kind)``); the working-day rules
become, per office, a bound on a time column, so only due tickets are loaded (with what they
need, eagerly). They are worked ``BATCH`` tickets per transaction, so that a sweep never holds
SQLite's write lock (or PostgreSQL's row locks) for more than a moment while webhooks wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from babel.dates import format_date
from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session, selectinload

from core.address import Address
from core.engine import Enter, Notice, Reply
from core.texts import Texts
from handlers import handover
from office.config import Layanan, Office, PstConfig
from office.workdays import previous_working_day, working_days_from
from storage.db import Database
from storage.models import Ticket, Visitor, utcnow

IDLE_CLOSE = dt.timedelta(days=7)
IDLE_WARN = dt.timedelta(days=6)
BATCH = 20  # tickets per transaction: 20 idle closes hold SQLite ~0.1 s (bench/sweep.py)
Chats = set[tuple[str, str]]
Write = Callable[[Session, list[Any], list[Notice | Enter]], Chats]


class Jobs:
    """The ticket jobs of one deployment. ``write`` puts notices into the outbox in a session
    and returns the chats given something (:meth:`core.engine.Engine.write`)."""

    def __init__(
        self, db: Database, pst: PstConfig, texts: Texts, write: Write, batch: int = BATCH
    ) -> None:
        self.db, self.pst, self.texts, self.write, self.batch = db, pst, texts, write, batch

    def sweep(self) -> Chats:
        """Run every job once; returns the chats given something to deliver."""
        now = utcnow()
        chats = self._in_batches(_due_dates(self.pst, now), self._remind_due(now))
        chats |= self._in_batches(_unanswered(self.pst, now), self._remind_unanswered)
        return chats | self._in_batches(_idle(now), self._idle(now))

    def _in_batches(
        self, query: Select, act: Callable[[Session, Ticket], list[Notice | Enter]]
    ) -> Chats:
        """``act`` on every ticket ``query`` selects, ``batch`` tickets (locked, in id order) per
        transaction; their notices are written in the same transaction."""
        chats: Chats = set()
        after = 0
        while True:
            with self.db.transaction() as session:
                page = query.where(Ticket.id > after).order_by(Ticket.id).limit(self.batch)
                tickets = session.scalars(page.with_for_update()).all()
                notices = [notice for ticket in tickets for notice in act(session, ticket)]
                chats |= self.write(session, [], notices)
            # A short page is the last; one PostgreSQL shortened (a locked row stopped being
            # due meanwhile) ends the job early, and the next sweep goes on.
            if len(tickets) < self.batch:
                return chats
            after = tickets[-1].id

    def _remind_due(self, now: dt.datetime) -> Callable[[Session, Ticket], list[Notice]]:
        def remind(_session: Session, ticket: Ticket) -> list[Notice]:
            office = self.pst.office(ticket.office_code)
            if ticket.due_at < now:
                ticket.overdue_alerted, key = True, "staff_overdue_alert"
            else:
                ticket.due_reminded, key = True, "staff_due_reminder"
            due = ticket.due_at.replace(tzinfo=dt.UTC).astimezone(office.tz).date()
            text = self.texts.get(
                "id",
                key,
                number=ticket.number,
                due=format_date(due, "full", locale="id"),
                summary=ticket.summary[:80],
            )
            return [Notice(Address.staff(office.staff_chat_id), Reply(text))]

        return remind

    def _remind_unanswered(self, _session: Session, ticket: Ticket) -> list[Notice]:
        office = self.pst.office(ticket.office_code)
        ticket.unanswered_reminded = True
        days = office.deadline_days(Layanan.KONSULTASI)
        text = self.texts.get("id", "staff_unanswered", number=ticket.number, days=days)
        return [Notice(Address.staff(office.staff_chat_id), Reply(text))]

    def _idle(self, now: dt.datetime) -> Callable[[Session, Ticket], list[Notice | Enter]]:
        def idle(session: Session, ticket: Ticket) -> list[Notice | Enter]:
            office = self.pst.office(ticket.office_code)
            if ticket.last_staff_at <= now - IDLE_CLOSE:
                key = "handover_closed_idle"
                return handover.close(session, office, ticket, self.texts, "sistem", key)
            ticket.idle_warned = True
            lang = ticket.visitor.lang
            warning = Reply(self.texts.get(lang, "handover_idle_warning", number=ticket.number))
            return [Notice.to_visitor(ticket.visitor, warning, "pengingat_tutup", ticket.number)]

        return idle


def _due_dates(pst: PstConfig, now: dt.datetime) -> Select:
    """Open tickets (not consultations: they have their own timers) of offices with a staff
    chat that are past due and not yet alerted, or due by the next working day and not yet
    reminded."""
    offices = [
        and_(
            Ticket.office_code == office.code,
            or_(
                and_(Ticket.due_at < now, ~Ticket.overdue_alerted),
                and_(
                    Ticket.due_at >= now,
                    Ticket.due_at < due_soon_before(office, now),
                    ~Ticket.due_reminded,
                ),
            ),
        )
        for office in pst.offices
        if office.staff_chat_id is not None
    ]
    return select(Ticket).where(
        Ticket.status.in_(handover.OPEN), Ticket.kind != "KS", or_(false(), *offices)
    )


def _unanswered(pst: PstConfig, now: dt.datetime) -> Select:
    """Open consultations whose last message is the visitor's, written before the office's
    answer time ran out, and staff not yet reminded (offices promising no time: none)."""
    offices = [
        and_(
            Ticket.office_code == office.code,
            Ticket.last_visitor_at < unanswered_before(office, now, days),
        )
        for office in pst.offices
        if (days := office.deadline_days(Layanan.KONSULTASI))
    ]
    return select(Ticket).where(
        Ticket.status.in_(handover.OPEN),
        Ticket.kind == "KS",
        ~Ticket.unanswered_reminded,
        or_(Ticket.last_staff_at.is_(None), Ticket.last_visitor_at > Ticket.last_staff_at),
        or_(false(), *offices),
    )


def _idle(now: dt.datetime) -> Select:
    """Open consultations whose last message is staff's, six days old and the visitor not yet
    warned, or seven days old; with the visitor, the conversation and the history a close
    touches."""
    return (
        select(Ticket)
        .where(
            Ticket.status.in_(handover.OPEN),
            Ticket.kind == "KS",
            Ticket.last_staff_at <= now - IDLE_WARN,
            or_(Ticket.last_visitor_at.is_(None), Ticket.last_visitor_at <= Ticket.last_staff_at),
            or_(Ticket.last_staff_at <= now - IDLE_CLOSE, ~Ticket.idle_warned),
        )
        .options(
            selectinload(Ticket.visitor).selectinload(Visitor.conversation),
            selectinload(Ticket.events),
        )
    )


def due_soon_before(office: Office, now: dt.datetime) -> dt.datetime:
    """Tickets of ``office`` due (naive UTC) before this are reminded at ``now``: staff hear of a
    due date on the working day before it, so on the office's day T of every due date up to the
    next working day after T."""
    today = now.replace(tzinfo=dt.UTC).astimezone(office.tz).date()
    following = next(working_days_from(office, today + dt.timedelta(days=1)))
    return _start_of(office, following + dt.timedelta(days=1))


def unanswered_before(office: Office, now: dt.datetime, days: int) -> dt.datetime:
    """A consultation of ``office`` whose visitor wrote (naive UTC) before this is unanswered
    too long at ``now``: the answer time is ``days`` working days after the day the visitor
    wrote, and passed when that many working days lie between then and the office's today."""
    day = now.replace(tzinfo=dt.UTC).astimezone(office.tz).date()
    for _ in range(days):
        day = previous_working_day(office, day)
    return _start_of(office, day)


def _start_of(office: Office, day: dt.date) -> dt.datetime:
    """Midnight of ``office``'s local ``day``, as naive UTC."""
    midnight = dt.datetime.combine(day, dt.time(), office.tz)
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)
