"""The scheduled ticket jobs (staff/jobs.py): the timers moved out of ``details`` by migration
0011, the working-day rules as SQL bounds, and a sweep that works in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from core.engine import Enter, Notice
from core.texts import Texts
from office.config import Layanan, load_config
from office.workdays import (
    closing_time,
    is_working_day,
    previous_working_day,
    working_days_from,
)
from staff import jobs
from storage.db import MIGRATIONS, Database, make_engine
from storage.models import Conversation, Ticket, Visitor, utcnow

OLD_TICKETS = sa.table(  # tickets as revision 0010 has them
    "tickets",
    sa.column("id", sa.Integer()),
    sa.column("number", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("office_code", sa.String()),
    sa.column("visitor_id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("summary", sa.Text()),
    sa.column("details", sa.JSON()),
    sa.column("created_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()),
)


def _alembic(url: str, verb: str, revision: str) -> None:
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, revision)
    engine.dispose()


def test_migration_moves_timers_and_flags_out_of_details_and_back(database_url: str) -> None:
    _alembic(database_url, "upgrade", "0010")
    engine = make_engine(database_url)
    now = dt.datetime(2026, 11, 29, 12)
    old_details = {
        "KS-1": {
            "last_visitor_at": "2026-11-20T08:00:00.123456",
            "last_staff_at": "2026-11-21T09:30:00",
            "warned": True,
            "staff_reminded": False,
            "topik": "perahu motor",
        },
        "PD-1": {"reminded": True, "overdue_alerted": True, "held": True, "file": "9/a.pdf"},
        "KS-2": {"last_visitor_at": "2026-11-20T15:00:00+07:00", "staff_reminded": True},
        "PG-1": {"isi": "antrean lama"},
    }
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO visitors (id, channel, user_id, chat_id, lang, created_at) "
                "VALUES (1, 'telegram', '7', '7', 'id', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            OLD_TICKETS.insert(),
            [
                dict(
                    number=number,
                    kind=number[:2],
                    office_code="6106",
                    visitor_id=1,
                    status="baru",
                    summary="-",
                    details=details,
                    created_at=now,
                    updated_at=now,
                )
                for number, details in old_details.items()
            ],
        )
    _alembic(database_url, "upgrade", "head")
    db = Database(database_url)
    with db.transaction() as session:
        t = {x.number: x for x in session.scalars(select(Ticket))}
    db.dispose()
    assert t["KS-1"].last_visitor_at == dt.datetime(2026, 11, 20, 8, 0, 0, 123456)
    assert t["KS-1"].last_staff_at == dt.datetime(2026, 11, 21, 9, 30)
    assert (t["KS-1"].idle_warned, t["KS-1"].unanswered_reminded) == (True, False)
    assert t["KS-1"].details == {"topik": "perahu motor"}
    assert (t["PD-1"].due_reminded, t["PD-1"].overdue_alerted) == (True, True)
    assert t["PD-1"].details == {"file": "9/a.pdf"}  # "held" had no reader since 0009: gone
    assert t["KS-2"].last_visitor_at == dt.datetime(2026, 11, 20, 8)  # +07:00 as naive UTC
    assert t["KS-2"].unanswered_reminded and t["KS-2"].last_staff_at is None
    assert t["PG-1"].details == {"isi": "antrean lama"}
    assert not (t["PG-1"].idle_warned or t["PG-1"].due_reminded or t["PG-1"].overdue_alerted)
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("tickets")}
    assert "ix_tickets_status_kind" in indexes

    _alembic(database_url, "downgrade", "0010")
    with engine.begin() as conn:
        back = dict(conn.execute(select(OLD_TICKETS.c.number, OLD_TICKETS.c.details)).all())
    engine.dispose()
    assert back["KS-1"] == {
        "last_visitor_at": "2026-11-20T08:00:00.123456",
        "last_staff_at": "2026-11-21T09:30:00",
        "warned": True,
        "topik": "perahu motor",
    }
    assert back["PD-1"] == {"reminded": True, "overdue_alerted": True, "file": "9/a.pdf"}
    assert back["KS-2"] == {"last_visitor_at": "2026-11-20T08:00:00", "staff_reminded": True}
    assert back["PG-1"] == {"isi": "antrean lama"}


OFFICES = load_config(Path(__file__).resolve().parents[1] / "config.yaml").offices
ANSWERING = [o for o in OFFICES if o.deadline_days(Layanan.KONSULTASI)]  # promise an answer time


@pytest.mark.parametrize("office", OFFICES, ids=lambda office: office.code)
def test_due_reminder_bound_matches_the_working_day_before_the_due_date(office) -> None:
    # Every day of 2026 (Nyepi, Lebaran and its cuti bersama, Christmas included).
    for n in range(365):
        today = dt.date(2026, 1, 1) + dt.timedelta(days=n)
        now = _utc(dt.datetime.combine(today, dt.time(10), office.tz))
        bound = jobs.due_soon_before(office, now)
        for ahead in range(-2, 20):
            due = today + dt.timedelta(days=ahead)
            if not is_working_day(office, due) or _utc(closing_time(office, due)) < now:
                continue  # due dates are working days; a past one is overdue, not reminded
            due_at = _utc(closing_time(office, due))
            reminded = today >= previous_working_day(office, due)
            assert (due_at < bound) == reminded, (today, due)


@pytest.mark.parametrize("office", ANSWERING, ids=lambda office: office.code)
def test_unanswered_bound_matches_the_answer_time_in_working_days(office) -> None:
    days = office.deadline_days(Layanan.KONSULTASI)
    for n in range(0, 365, 2):
        today = dt.date(2026, 1, 1) + dt.timedelta(days=n)
        now = _utc(dt.datetime.combine(today, dt.time(10), office.tz))
        bound = jobs.unanswered_before(office, now, days)
        for back in range(25):
            wrote = today - dt.timedelta(days=back)
            following = working_days_from(office, wrote + dt.timedelta(days=1))
            answer_by = [next(following) for _ in range(days)][-1]
            for hour in (dt.time(0, 30), dt.time(23, 30)):  # the local day, not the UTC day
                visitor_at = _utc(dt.datetime.combine(wrote, hour, office.tz))
                assert (visitor_at < bound) == (today > answer_by), (today, wrote, hour)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def test_a_sweep_over_300_tickets_commits_in_batches_and_frees_the_database_between(
    db: Database, test_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pst = load_config(test_config)
    office = pst.office("1905")
    now = utcnow()
    with db.transaction() as session:
        for n in range(300):
            visitor = Visitor(channel="telegram", user_id=str(n), chat_id=str(n), lang="id")
            session.add(Conversation(visitor=visitor))
            staff_at = now - dt.timedelta(days=8 if n % 2 else 6, hours=1)  # close, or warn
            session.add(
                Ticket(
                    number=f"KS-1905-20261120-{n:04d}",
                    kind="KS",
                    office_code=office.code,
                    visitor=visitor,
                    status="diproses",
                    summary="-",
                    last_visitor_at=staff_at - dt.timedelta(hours=1),
                    last_staff_at=staff_at,
                )
            )
    last = f"KS-1905-20261120-{299:04d}"
    loaded: list[int] = []
    probes: list[int] = []
    real = db.transaction

    @contextmanager
    def watched() -> Iterator:
        with real() as session:
            yield session
            loaded.append(sum(isinstance(o, Ticket) for o in session.identity_map.values()))
        probes.append(_write_at_once(db, last))

    monkeypatch.setattr(db, "transaction", watched)
    notices = []

    def write(_session, _rows, new) -> set:
        notices.extend(new)
        return {(n.channel, n.chat_id) for n in new if isinstance(n, Notice)}

    jobs.Jobs(db, pst, Texts.load(), write, batch=50).sweep()
    monkeypatch.undo()

    assert max(loaded) <= 50  # no transaction holds more than one batch of tickets
    assert sum(loaded) == 300 and len(loaded) >= 300 // 50
    # Between every two batches a webhook's write went through at once (tickets still due).
    assert [left for left in probes if 0 < left < 300] == [250, 200, 150, 100, 50]
    with db.transaction() as session:
        closed = session.scalar(select(func.count()).where(Ticket.status == "selesai"))
        warned = session.scalar(select(func.count()).where(Ticket.idle_warned))
    assert (closed, warned) == (150, 150)
    assert sum(n.kind == "pengingat_tutup" for n in notices) == 150
    invited = [n for n in notices if isinstance(n, Enter)]  # each closed one: asked to rate
    assert len(invited) == 150 and {n.state for n in invited} == {"rating.intro"}


def _write_at_once(db: Database, number: str) -> int:
    """Write a ticket the way a webhook would, failing at once if the database (SQLite) or the
    row (PostgreSQL) is locked; returns how many tickets are still open and unwarned."""
    url = db.engine.url
    args = {"timeout": 0} if url.get_backend_name() == "sqlite" else {}
    probe = sa.create_engine(url, connect_args=args)
    try:
        with probe.begin() as conn:
            if url.get_backend_name() == "postgresql":
                conn.exec_driver_sql("SET LOCAL lock_timeout = 1")  # ms: fail, never wait
            conn.execute(sa.update(Ticket).where(Ticket.number == number).values(summary="-"))
            return conn.scalar(
                select(func.count()).where(Ticket.status == "diproses", ~Ticket.idle_warned)
            )
    finally:
        probe.dispose()
