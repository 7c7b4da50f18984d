"""The one scheduler of a deployment: outbox retries, parked messages, reminders, idle closes.

Only one scheduler may run per database: every process that starts one (``pstbot serve``,
``pstbot worker``) competes for a lease row (``scheduler_lease``, renewed every
``HEARTBEAT_SECONDS``, lost after ``LEASE_SECONDS``); the holder runs the jobs, the others wait
as hot standbys and take over when the lease runs out. The jobs are fixed and added at every
start, so they live in memory; what they work on (outbox, tickets) is in the database.

A job that raises is logged and recorded (``last_error``) and the scheduler lives on; the loop
itself is guarded too, since APScheduler 3.x lets an exception from a job-store write end its
thread for good (agronholm/apscheduler#213). ``/healthz`` reads the lease row.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, or_, select, update

from bot.engine import insert_for
from storage.db import Database
from storage.models import Outbox, SchedulerLease, utcnow

logger = logging.getLogger(__name__)
LEASE_NAME = "main"
LEASE_SECONDS = 30
HEARTBEAT_SECONDS = 10
SWEEP_MINUTES = 15
RETRY_AFTER_LOOP_ERROR = 1.0  # seconds


class _GuardedScheduler(BackgroundScheduler):
    """APScheduler's background scheduler whose loop survives an error in its own
    bookkeeping (a job-store write): logged, retried a second later."""

    def _process_jobs(self) -> float | None:
        try:
            return super()._process_jobs()
        except Exception:
            logger.exception("scheduler loop failed; trying again")
            return RETRY_AFTER_LOOP_ERROR


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


class Scheduler:
    """Runs ``jobs`` (name → (callable, seconds between runs)) while holding the lease."""

    def __init__(self, db: Database, jobs: dict[str, tuple[Callable[[], Any], float]]) -> None:
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(db, holder)
        self.jobs = jobs
        self.leader = False
        self._aps = _GuardedScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )

    def start(self) -> None:
        """Try for the lease at once, then start the jobs (they run only while leader)."""
        self.heartbeat()
        self._aps.add_job(self.heartbeat, "interval", id="heartbeat", seconds=HEARTBEAT_SECONDS)
        for name, (job, seconds) in self.jobs.items():
            self._aps.add_job(self._run, "interval", args=(name, job), id=name, seconds=seconds)
        self._aps.start()
        logger.info("scheduler started (%s)", "leader" if self.leader else "standby")

    def heartbeat(self) -> None:
        """Renew (or try to take) the lease."""
        try:
            leader = self.lease.acquire()
        except Exception:
            logger.exception("scheduler lease could not be renewed")
            leader = False
        if leader != self.leader:
            logger.info("scheduler %s", "took the lease" if leader else "is standby")
        self.leader = leader

    def _run(self, name: str, job: Callable[[], Any]) -> None:
        if not self.leader:
            return
        try:
            job()
        except Exception as exc:
            logger.exception("scheduled job %s failed", name)
            self._record(f"{name}: {type(exc).__name__}")
        else:
            self._record(None)

    def _record(self, error: str | None) -> None:
        try:
            self.lease.record(error)
        except Exception:
            logger.exception("scheduler status could not be recorded")

    def shutdown(self) -> None:
        """Stop the jobs (waiting for those running) and give the lease up."""
        self._aps.shutdown(wait=True)
        if self.leader:
            self.leader = False
            try:
                self.lease.release()
            except Exception:  # the lease then simply runs out
                logger.exception("scheduler lease could not be released")


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
