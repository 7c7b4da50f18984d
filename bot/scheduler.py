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

import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from core.lease import Lease
from storage.db import Database

logger = logging.getLogger(__name__)
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
