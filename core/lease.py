"""The scheduler lease: one row (``scheduler_lease``) that at most one scheduler of a deployment
holds at a time, and what ``/healthz`` and the desk's system page read from it and the outbox.

The scheduler that competes for the lease is the application's (:mod:`bot.scheduler`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select, update

from core.engine import insert_for
from storage.db import Database
from storage.models import Outbox, SchedulerLease, utcnow

LEASE_NAME = "main"
LEASE_SECONDS = 30


class Lease:
    """The scheduler lease of one database, as held by ``holder``."""

    def __init__(self, db: Database, holder: str, seconds: float = LEASE_SECONDS) -> None:
        self.db, self.holder, self.seconds = db, holder, seconds

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live scheduler holds it."""
        now = utcnow()
        until = now + dt.timedelta(seconds=self.seconds)
        with self.db.transaction() as session:
            session.execute(
                insert_for(session, SchedulerLease)
                .values(name=LEASE_NAME, holder=self.holder, expires_at=until)
                .on_conflict_do_nothing()
            )
            taken = session.connection().execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == LEASE_NAME,
                    or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=until)
            )
            return taken.rowcount == 1

    def release(self) -> None:
        """Give the lease up at once (a standby takes over at its next heartbeat)."""
        with self.db.transaction() as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder)
                .values(expires_at=utcnow())
            )

    def record(self, error: str | None) -> None:
        """Note a job's success (``error`` None) or failure, for ``/healthz``."""
        values: dict[str, Any] = {"last_ok_at": utcnow()}
        if error is not None:
            values = {"last_error": error[:500], "last_error_at": utcnow()}
        with self.db.transaction() as session:
            session.execute(
                update(SchedulerLease).where(SchedulerLease.name == LEASE_NAME).values(**values)
            )


def health(db: Database) -> dict[str, Any]:
    """The scheduler's and the outbox's state for ``/healthz``: whether a scheduler holds the
    lease, when its jobs last succeeded and failed (UTC, ISO 8601), and the outbox backlog
    (pending rows, and those due for over a minute)."""
    now = utcnow()
    with db.transaction() as session:
        lease = session.get(SchedulerLease, LEASE_NAME)
        pending = session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
        )
        late = session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(
                Outbox.status == "pending",
                Outbox.next_attempt_at < now - dt.timedelta(minutes=1),
            )
        )

    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() + "Z" if value else None

    return {
        "scheduler": {
            "alive": bool(lease and lease.expires_at > now),
            "last_ok_at": iso(lease.last_ok_at) if lease else None,
            "last_error_at": iso(lease.last_error_at) if lease else None,
            "last_error": lease.last_error if lease else None,
        },
        "outbox": {"pending": pending, "late": late},
    }
