"""Delivering the outbox: every reply and notice is a row that stays until its channel took it.

Rows of one chat go out strictly in order: a chat's next row is only sent once the one before
it succeeded (or failed for good). A temporary failure (network, 429, 5xx) puts the row back with
a delay: exponential backoff from ``first_delay`` (5 s by default) up to 1 h, and never less
than Telegram's ``retry_after``.
Rows are claimed with a lease (``claimed_until``) inside a locking transaction, so several
threads or processes can deliver side by side without sending anything twice.
A ``gate`` (:class:`core.window.WindowGate`) may hold a row back just before it is sent.

The replies to an inbound message usually skip the claiming: :meth:`core.engine.Engine.handle`
writes them already claimed when their chat had nothing queued, and :meth:`Courier.send_claimed`
sends them from memory right after the commit and records the outcomes of the whole batch, with
those of other chats sent at the same time, in one transaction (issue 12: three transactions per
reply were most of the webhook's cost). The gate is not asked for them: the visitor has just
written, so WhatsApp's window is open (a 63016 from Twilio still goes through it).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session

from core.channels.base import Sender, SendError
from core.engine import LEASE, Claim, Handled
from storage.db import Database, GroupCommit
from storage.models import Outbox, Visitor, utcnow

logger = logging.getLogger(__name__)
BACKOFF_MAX = 3600.0  # seconds
PROGRESS = ("queued", "accepted", "sending", "sent", "delivered", "read")  # Twilio statuses
FAILED = ("failed", "undelivered")
WINDOW_CLOSED = "63016"  # Twilio: free-form message outside WhatsApp's 24-hour window
# gate(session, row, closed) → None to send the row now, else the chats given new rows.
Gate = Callable[[Session, Outbox, bool], set[tuple[str, str]] | None]


def backoff(attempts: int, first_delay: float, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempts + 1``: ``first_delay`` doubled per attempt,
    at most an hour, at least the API's ``retry_after``."""
    delay = min(first_delay * 2 ** max(attempts - 1, 0), BACKOFF_MAX)
    return max(delay, retry_after or 0.0)


class Courier:
    """Sends outbox rows through the channel senders (``senders`` maps channel → sender);
    ``gate`` decides just before a send whether the row goes now (see :data:`Gate`)."""

    def __init__(
        self,
        db: Database,
        senders: dict[str, Sender],
        first_delay: float = 5.0,
        workers: int = 4,
        gate: Gate | None = None,
    ) -> None:
        self.db = db
        self.senders = senders
        self.first_delay = first_delay
        self.gate = gate
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="courier")
        self.alerts: dict[str, str] = {}  # channel → the error that needs the operator
        self._queued: set[tuple[str, str]] = set()
        self._queued_lock = threading.Lock()
        self.undelivered = 0  # messages a channel reported as failed after taking them
        self._outcomes = GroupCommit(self._record_sent)

    def kick(self, channel: str, chat_id: str) -> None:
        """Deliver a chat's due rows soon, on a worker thread (the webhook answers at once).
        A chat already waiting for a thread is not queued twice, so a backlog cannot pile up
        while sends are slow."""
        with self._queued_lock:
            if (channel, chat_id) in self._queued:
                return
            self._queued.add((channel, chat_id))
        self._pool.submit(self._safely, channel, chat_id)

    def _safely(self, channel: str, chat_id: str) -> None:
        with self._queued_lock:  # from here on, a new kick queues another round
            self._queued.discard((channel, chat_id))
        try:
            self.deliver_chat(channel, chat_id)
        except Exception:  # a worker thread must log, not die silently; the row stays pending
            logger.exception("delivery to a %s chat failed", channel)

    def deliver(self, handled: Handled) -> None:
        """Deliver what :meth:`core.engine.Engine.handle` left: its claimed rows at once, in
        this thread (the webhook's, after the commit), and the chats it gave other rows, each
        on a worker thread. Sending here rather than on a worker keeps intake in step with
        delivery: under load a process that took messages faster than it answered them left
        its replies queued for seconds (issue 12)."""
        if handled.claims:
            try:
                self.send_claimed(handled)
            except Exception:  # logged; the rows stay claimed and the retry job sends them
                logger.exception("delivery to a %s chat failed", handled.chat[0])
        self._kick_all(handled.chats)

    def send_claimed(self, handled: Handled) -> None:
        """Send ``handled.claims`` in order, stopping at the first failure, then record the
        outcomes: the sent rows, the failed one as :meth:`_send` would, and the unsent rest
        released (waiting behind a retried row). The chat's other rows that came meanwhile
        are then delivered as usual. A row given a message id (Twilio's MessageSid) is
        recorded at once, before the next send: its status callback may come any moment and
        must find it. When all went, the outcomes share a transaction with other chats' that
        are recorded at the same time (:class:`storage.db.GroupCommit`)."""
        channel, chat_id = handled.chat
        sent: list[tuple[Claim, str | None]] = []
        failed, done = None, 0
        for claim in handled.claims:
            sid, error = self._call(channel, claim)
            if error is not None:
                failed = (claim, error)
                break
            done += 1
            sent.append((claim, sid))
            if isinstance(sid, str) and done < len(handled.claims):
                with self.db.connection() as conn:
                    self._sent(conn, channel, sent)
                sent = []
        if failed is None:
            more = self._outcomes.submit((channel, chat_id, sent))
        else:
            more = self._record_failed(channel, chat_id, sent, failed, handled.claims[done + 1 :])
        if more:
            self.deliver_chat(channel, chat_id)

    def _record_sent(self, batches: list[tuple[str, str, list]]) -> list[bool]:
        """Record the sent rows of several chats in one transaction; for each chat, whether
        it has a pending row (one that came while its batch was being sent)."""
        with self.db.connection() as conn:
            for channel, _, sent in batches:
                if sent:
                    self._sent(conn, channel, sent)
            waiting = _pending_chats(conn, {(channel, chat) for channel, chat, _ in batches})
        return [(channel, chat) in waiting for channel, chat, _ in batches]

    def _record_failed(
        self, channel: str, chat_id: str, sent: list, failed: tuple, unsent: tuple[Claim, ...]
    ) -> bool:
        """Record a batch that stopped at ``failed``: True when the chat's rows may go on."""
        rest = [c.id for c in unsent]
        with self.db.transaction() as session:
            if sent:
                self._sent(session, channel, sent)
            go_on = self._record(session, channel, *failed)
            if rest:
                session.execute(
                    update(Outbox)
                    .where(Outbox.id.in_(rest))
                    .values(claimed_until=None, attempts=0)
                    .execution_options(synchronize_session=False)
                )
            return go_on and bool(rest or _pending_chats(session, {(channel, chat_id)}))

    def _sent(
        self, db: Session | Connection, channel: str, sent: list[tuple[Claim, str | None]]
    ) -> None:
        now = utcnow()
        rows = [
            {"row": claim.id, "at": now, "sid": sid if isinstance(sid, str) else None}
            for claim, sid in sent
        ]
        db.execute(_SENT, rows)
        self.alerts.pop(channel, None)

    def deliver_chat(self, channel: str, chat_id: str) -> int:
        """Send the due rows of one chat in order; stop at a temporary failure. Returns the
        number of rows finished (sent, or failed for good)."""
        sent = 0
        while (claim := self._claim_next(channel, chat_id)) is not None:
            if not self._send(channel, claim):
                break
            sent += 1
        return sent

    def deliver_due(self) -> int:
        """Start delivering every chat that has due rows (the scheduler's retry job), each on
        a worker thread, so that one slow chat does not hold the others. Returns the number
        of chats started."""
        now = utcnow()
        with self.db.transaction() as session:
            chats = session.execute(
                select(Outbox.channel, Outbox.chat_id)
                .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
                # Not the rows being sent (claimed): a kick would find nothing to do.
                .where(or_(Outbox.claimed_until.is_(None), Outbox.claimed_until <= now))
                .distinct()
            ).all()
        due = [(channel, chat) for channel, chat in chats if channel in self.senders]
        for channel, chat in due:
            self.kick(channel, chat)
        return len(due)

    def _claim_next(self, channel: str, chat_id: str) -> Claim | None:
        claim, others = None, set()
        with self.db.transaction() as session:
            while (row := self._next_due(session, channel, chat_id)) is not None:
                held = self.gate(session, row, False) if self.gate else None
                if held is None:
                    row.claimed_until = utcnow() + LEASE
                    row.attempts += 1
                    claim = Claim(row.id, row.method, dict(row.payload), row.attempts)
                    break
                others |= held  # the gate held the row back: look at the next one
        self._kick_all(others)
        return claim

    @staticmethod
    def _next_due(session: Session, channel: str, chat_id: str) -> Outbox | None:
        """The chat's first pending row, locked, if it is due and not leased to another sender."""
        now = utcnow()
        row = session.scalars(
            select(Outbox)
            .where(Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.status == "pending")
            .order_by(Outbox.id)
            .limit(1)
            .with_for_update()
        ).first()
        if row is None or row.next_attempt_at > now:
            return None
        if row.claimed_until is not None and row.claimed_until > now:
            return None
        return row

    def _send(self, channel: str, claim: Claim) -> bool:
        """Send one claimed row and record the outcome; True when the chat's next row may go."""
        sid, error = self._call(channel, claim)
        with self.db.transaction() as session:
            if error is None:
                self._sent(session, channel, [(claim, sid)])
                return True
            return self._record(session, channel, claim, error)

    def _call(self, channel: str, claim: Claim) -> tuple[str | None, SendError | None]:
        """The sender's result for ``claim``: ``(message id, None)`` or ``(None, error)``."""
        try:
            return self.senders[channel].send(claim.method, claim.payload), None
        except SendError as exc:
            return None, exc
        except Exception as exc:  # a bug or an unexpected client error: keep the row, retry
            logger.exception("outbox %s: unexpected error from the %s sender", claim.id, channel)
            return None, SendError(f"{type(exc).__name__}: {exc}", temporary=True)

    def _record(self, session: Session, channel: str, claim: Claim, error: SendError) -> bool:
        """Record a failed send of ``claim``: held by the gate, moved with its chat, failed for
        good, or retried after a backoff. True when the chat's next row may go."""
        row = session.get(Outbox, claim.id)
        row.claimed_until = None
        row.last_error = str(error)[:1000]
        held = self.gate(session, row, True) if error.window_closed and self.gate else None
        if held is not None:
            self._kick_all(held)
            return True  # held: the next rows are looked at
        if error.migrate_to:
            _follow(session, channel, row.chat_id, error.migrate_to)
            self.kick(channel, error.migrate_to)
            return False
        if not error.temporary:
            row.status = "failed"
            log = logger.critical if error.alert else logger.error
            log("outbox %s to %s failed for good: %s", claim.id, channel, error)
            if error.alert:
                self.alerts[channel] = str(error)
            return True  # later rows of the chat may still go out
        delay = backoff(claim.attempts, self.first_delay, error.retry_after)
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        logger.warning(
            "outbox %s to %s failed (attempt %s), retry in %.0f s: %s",
            claim.id,
            channel,
            claim.attempts,
            delay,
            error,
        )
        return False

    def record_status(self, message_sid: str, status: str, error_code: str | None) -> bool:
        """Record Twilio's status callback for the row sent as ``message_sid``: delivery
        statuses only move forward (queued → sent → delivered → read). ``failed`` or
        ``undelivered`` with 63016 (outside WhatsApp's window) holds the row and takes the
        template path of the gate; another failure marks the row failed, is logged and counted
        in ``undelivered``, and the gate tells staff. Returns False for an unknown sid."""
        with self.db.transaction() as session:
            row = session.scalars(
                select(Outbox).where(Outbox.message_sid == message_sid).with_for_update()
            ).first()
            if row is None:
                return False
            chats: set[tuple[str, str]] = set()
            if status in FAILED:
                row.delivery = status
                chats = self._undelivered(session, row, status, error_code)
            elif status in PROGRESS and _later(status, row.delivery):
                row.delivery = status
        self._kick_all(chats)
        return True

    def _undelivered(
        self, session: Session, row: Outbox, status: str, error_code: str | None
    ) -> set[tuple[str, str]]:
        row.last_error = f"twilio {status} code {error_code}"
        held = self.gate(session, row, True) if error_code == WINDOW_CLOSED and self.gate else None
        if held is not None:
            return {(row.channel, row.chat_id)} | held
        row.status = "failed"
        self.undelivered += 1
        logger.error("outbox %s to %s %s: code %s", row.id, row.channel, status, error_code)
        notify = getattr(self.gate, "undeliverable", None)
        return notify(session, row) if notify else set()

    def _kick_all(self, chats: set[tuple[str, str]]) -> None:
        for chat in chats:
            self.kick(*chat)

    def close(self) -> None:
        """Wait for deliveries in progress, then stop the worker threads."""
        self._pool.shutdown(wait=True)


def _pending_chats(db: Session | Connection, chats: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Those of ``chats`` with a pending row (one that came while a batch was being sent)."""
    return {tuple(row) for row in db.execute(_PENDING, {"chats": list(chats)})} & chats


# Built once per process: the outcomes of every reply sent (issue 12).
_SENT = (
    update(Outbox.__table__)
    .where(Outbox.__table__.c.id == bindparam("row"))
    .values(
        status="sent", sent_at=bindparam("at"), claimed_until=None, message_sid=bindparam("sid")
    )
)
_PENDING = (
    select(Outbox.channel, Outbox.chat_id)
    .where(
        tuple_(Outbox.channel, Outbox.chat_id).in_(bindparam("chats", expanding=True)),
        Outbox.status == "pending",
    )
    .distinct()
)


def _later(status: str, before: str | None) -> bool:
    """Status callbacks may arrive out of order: only a later delivery step is recorded."""
    return before not in PROGRESS or PROGRESS.index(status) > PROGRESS.index(before)


def _follow(session: Session, channel: str, old: str, new: str) -> None:
    """A chat moved (a Telegram group became a supergroup): its pending rows and the visitor
    or staff chat that used the old id go to the new one."""
    logger.warning("%s chat moved to a new id; its pending messages follow", channel)
    rows = session.scalars(
        select(Outbox).where(
            Outbox.channel == channel, Outbox.chat_id == old, Outbox.status == "pending"
        )
    )
    for row in rows:
        row.chat_id, row.next_attempt_at = new, utcnow()
        if "chat_id" in row.payload:
            row.payload = {**row.payload, "chat_id": int(new) if new.lstrip("-").isdigit() else new}
    session.execute(
        update(Visitor)
        .where(Visitor.channel == channel, Visitor.chat_id == old)
        .values(chat_id=new)
    )
