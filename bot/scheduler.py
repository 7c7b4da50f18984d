"""The one APScheduler of a deployment: outbox retries, staff reminders and overdue alerts.

Jobs are kept in the database (``apscheduler_jobs``), so a restart loses none. A job store must
not be shared by two running schedulers (APScheduler 3.x docs, "Limitations"): run exactly one —
``pstbot serve`` (web and scheduler in one process) or ``pstbot worker`` beside gunicorn web
workers, which start none.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

if TYPE_CHECKING:
    from bot.service import Service

logger = logging.getLogger(__name__)
SWEEP_MINUTES = 15
_service: Service | None = None  # jobs are stored by reference and find the service here


def retry_outbox() -> None:
    """Job: deliver every outbox row that is due (failed sends whose backoff has passed)."""
    if _service is not None:
        _service.courier.deliver_due()


def sweep() -> None:
    """Job: ticket reminders, overdue alerts, idle-consultation warnings and closes."""
    if _service is not None:
        _service.sweep()


def start(service: Service) -> BackgroundScheduler:
    """Start the scheduler for ``service`` and (re)register its fixed jobs."""
    global _service
    _service = service
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=service.db.engine)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )
    scheduler.start()
    scheduler.add_job(
        "bot.scheduler:retry_outbox",
        "interval",
        id="outbox-retry",
        replace_existing=True,
        seconds=service.settings.outbox_retry_seconds,
    )
    scheduler.add_job(
        "bot.scheduler:sweep",
        "interval",
        id="sweep",
        replace_existing=True,
        minutes=SWEEP_MINUTES,
    )
    logger.info("scheduler started: outbox retry every %s s", service.settings.outbox_retry_seconds)
    return scheduler
