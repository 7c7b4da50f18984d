"""Inbound messages that could not be processed at once are kept, then processed again.

WhatsApp (Twilio) does not re-deliver a webhook that failed, so a message is never dropped on
a fault: when processing raises, the message is *parked* in ``inbound_messages`` (status
``parked``, the message as JSON) and the webhook is acknowledged; when even that write fails
(the database is down), the message is *spooled* to a file under ``<data>/spool/`` (written,
fsynced, renamed) and acknowledged. The scheduler's ``replay`` job moves spooled files into the
database and processes parked messages with a backoff; after ``MAX_ATTEMPTS`` a message is
marked ``failed`` and the visitor is told to try again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.engine import Inbound, insert_for
from storage.db import Database
from storage.models import InboundMessage, utcnow

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
FIRST_DELAY = 5.0  # seconds, doubled per attempt


def to_json(inbound: Inbound) -> dict[str, Any]:
    """``inbound`` as JSON-able data (``received_at`` as an ISO 8601 string)."""
    data = dataclasses.asdict(inbound)
    data["received_at"] = inbound.received_at.isoformat()
    return data


def from_json(data: dict[str, Any]) -> Inbound:
    """The :class:`Inbound` that :func:`to_json` wrote."""
    return Inbound(**{**data, "received_at": dt.datetime.fromisoformat(data["received_at"])})


def park(db: Database, inbound: Inbound, error: BaseException) -> None:
    """Keep ``inbound`` for a retry after its processing raised ``error``.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database cannot be written (spool it instead).
    """
    with db.transaction() as session:
        _park(session, to_json(inbound), error)


def _park(session: Any, data: dict[str, Any], error: BaseException | str) -> None:
    stmt = insert_for(session, InboundMessage).values(
        channel=data["channel"],
        message_id=data["message_id"],
        received_at=utcnow(),
        status="parked",
        payload=data,
        attempts=0,
        next_attempt_at=utcnow() + dt.timedelta(seconds=FIRST_DELAY),
        last_error=_describe(error),
    )
    session.execute(stmt.on_conflict_do_nothing())  # processed meanwhile: nothing to keep


def spool(folder: Path, inbound: Inbound) -> Path:
    """Write ``inbound`` to a file of its own in ``folder`` (durable before this returns).

    Raises:
        OSError: the file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{uuid.uuid4().hex}.json"
    tmp = final.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(to_json(inbound), out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, final)
    return final


def ingest_spool(db: Database, folder: Path) -> int:
    """Park every spooled message in the database and remove its file; returns how many."""
    moved = 0
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        with db.transaction() as session:
            _park(session, data, "spooled while the database was unavailable")
        path.unlink()
        moved += 1
    return moved


def due(db: Database, limit: int = 100) -> list[Inbound]:
    """Parked messages whose retry time has come, oldest first."""
    with db.transaction() as session:
        rows = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.status == "parked", InboundMessage.next_attempt_at <= utcnow())
            .order_by(InboundMessage.id)
            .limit(limit)
        ).all()
        return [from_json(row.payload) for row in rows]


def failed_again(db: Database, inbound: Inbound, error: BaseException) -> bool:
    """Record one more failed attempt; True when it was the last (the row is then ``failed``)."""
    with db.transaction() as session:
        row = session.scalars(
            select(InboundMessage)
            .where(
                InboundMessage.channel == inbound.channel,
                InboundMessage.message_id == inbound.message_id,
            )
            .with_for_update()
        ).one()
        row.attempts += 1
        row.last_error = _describe(error)
        if row.attempts >= MAX_ATTEMPTS:
            row.status, row.payload = "failed", None
            return True
        delay = FIRST_DELAY * 2**row.attempts
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        return False


def _describe(error: BaseException | str) -> str:
    # The exception's type only: its text may quote the visitor's words or SQL parameters.
    return error if isinstance(error, str) else type(error).__name__
