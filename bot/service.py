"""One running PST Bot: database, catalogue, engine, channel senders, outbox and scheduler."""

from __future__ import annotations

import gc
import logging
from dataclasses import replace
from functools import partial
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from werkzeug.utils import secure_filename

import handlers
import handlers.privacy
from bot import channels, scheduler
from bot.settings import Settings
from catalogue.importer import load_default
from catalogue.kb import KnowledgeBase
from catalogue.search import SearchIndex
from core import inbox, privacy
from core.channels import email, telegram
from core.channels.base import FileTooBig
from core.downloads import Downloads
from core.engine import Engine, Handled, Inbound, Reply
from core.outbox import Courier
from core.texts import Texts
from core.window import WindowGate
from handlers import rating
from nlu import classifier
from office.config import PstConfig
from staff import commands, jobs
from storage.db import Database, migrate, schema_behind
from storage.models import Publication, Ticket

logger = logging.getLogger(__name__)
REPLAY_SECONDS = 5  # how often parked inbound messages are looked at
PURGE_SECONDS = 3600  # how often expired personal data is looked for (retention, UU 27/2022)


class StartupError(Exception):
    """The service cannot start; the message names the setting and the reason in one line."""


def _database(url: str, prepare: bool) -> Database:
    """The database at ``url``: migrated to the newest schema when ``prepare``, else only
    checked to be there already (a web worker must not race the others to migrate it).

    Raises:
        StartupError: ``DATABASE_URL`` is malformed, the database cannot be reached, or (without
            ``prepare``) its schema is not the newest — then ``pstbot migrate`` is needed.
    """
    try:
        db = Database(url)
    except (ArgumentError, ValueError) as exc:
        raise StartupError(f"DATABASE_URL is not a database URL: {exc}") from exc
    try:
        if prepare:
            _prepare(db)
        elif behind := schema_behind(db.engine):
            db.dispose()
            raise StartupError(f"DATABASE_URL: {behind}; run `pstbot migrate` first")
    except OperationalError as exc:
        db.dispose()
        shown = db.engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StartupError(f"DATABASE_URL: cannot use {shown}: {reason}") from exc
    return db


def _prepare(db: Database) -> None:
    """Migrate ``db`` to the newest schema and load the shipped catalogue if it has none."""
    migrate(db.engine)
    with db.transaction() as session:
        empty = not session.scalar(select(func.count(Publication.id)))
    if empty:
        counts = load_default(db)
        logger.info("empty catalogue: loaded the shipped publications %s", counts)


def prepare(settings: Settings) -> None:
    """What ``pstbot migrate`` does: make the database at ``settings.database_url`` ready for
    any number of processes that only connect.

    Raises:
        StartupError: see :func:`_database`.
    """
    _database(settings.database_url, prepare=True).dispose()


def settle() -> None:
    """Call once a long-running process has started its service: what start-up made (the
    catalogue, the intent model, configuration) stays for the process's life, so the garbage
    collector is told to stop walking it (``gc.freeze``). Its full collections paused every
    thread for up to 134 ms and made the slowest first replies (issue 12)."""
    gc.collect()
    gc.freeze()


class Service:
    """Everything one process needs. ``terminal`` turns on the local channel of ``pstbot chat``,
    writing replies to that stream. ``prepare`` (what ``pstbot migrate``, ``serve``, ``worker``
    and ``chat`` do) migrates the database and loads the shipped catalogue into an empty one;
    without it (gunicorn web workers, :mod:`bot.wsgi`) the process only connects.

    Raises:
        StartupError: see :func:`_database`.
    """

    def __init__(
        self,
        settings: Settings,
        pst: PstConfig,
        terminal: TextIO | None = None,
        prepare: bool = True,
    ) -> None:
        self.settings = settings
        self.pst = pst
        self.db = _database(settings.database_url, prepare)
        self.texts = Texts.load()
        self.spool_dir = settings.data_dir / "spool"
        self.downloads = Downloads(
            self.db, pst, settings.data_dir, settings.secret_key, settings.public_base_url
        )
        for line in pst.warnings(shared_number=settings.whatsapp_enabled):
            logger.warning("%s", line)
        self.channels = channels.configured(
            settings,
            pst,
            self.texts,
            self.downloads,
            self.topic_for,
            lambda *status: self.courier.record_status(*status),
            terminal,
        )
        self.senders = {name: channel.sender for name, channel in self.channels.items()}
        self.engine = Engine(
            self.db, pst, self.texts, handlers.STATES, handlers.route, self.render, handlers.FORMER
        )
        self.engine.channels = frozenset(self.senders)
        gate = WindowGate(pst, self.texts, self.engine.write, rating.withdraw)
        self.courier = Courier(self.db, self.senders, settings.outbox_backoff_seconds, gate=gate)
        self.engine.data_dir = settings.data_dir
        self.jobs = jobs.Jobs(self.db, pst, self.texts, self.engine.write)
        self.staff_command = commands.command_handler(
            pst, self.texts, email=email.CHANNEL in self.senders
        )
        self.load_catalogue()
        classifier.model()  # trained now, not while the first visitor waits (0.5 s)
        self.scheduler: scheduler.Scheduler | None = None

    def load_catalogue(self) -> None:
        """(Re)build the publication search index and load the consultation knowledge base.
        (The sample PDFs of the demonstration records are made when first downloaded.)"""
        self.engine.catalogue = SearchIndex.from_db(self.db)
        self.engine.kb = KnowledgeBase.load()

    def render(
        self, channel: str, chat_id: str, reply_from: str | None, lang: str, reply: Reply
    ) -> list[tuple[str, dict[str, Any]]]:
        """Outbox rows for ``reply`` to ``chat_id`` on ``channel``; none (and a warning) for a
        channel not configured here: such a row would wait in the outbox forever."""
        if channel not in self.channels:
            logger.warning("no %s sender: a message to %s is not queued", channel, chat_id)
            return []
        return self.channels[channel].render(chat_id, reply_from, lang, reply)

    def receive(self, inbound: Inbound) -> None:
        """Handle one inbound message and start delivering what it produced. A file sent with
        it is fetched first and stored under ``<data>/tickets/``; when it cannot be fetched,
        the message goes on without it (staff are told in their group).

        A message whose processing fails is kept and retried by the scheduler
        (:mod:`core.inbox`): parked in the database, or spooled to a file when the database
        cannot be written. Only when neither works does this raise (the webhook answers 5xx).
        """
        try:
            handled = self._process(inbound)
        except Exception as exc:
            logger.exception(
                "%s message %s failed; kept for a retry", inbound.channel, inbound.message_id
            )
            self._keep(inbound, exc)
            return
        self.courier.deliver(handled)

    def _process(self, inbound: Inbound, parked: bool = False) -> Handled:
        command = self.staff_command
        if (inbound.file_id or inbound.media_url) and not inbound.file_path:
            try:
                inbound = replace(inbound, file_path=self._store_file(inbound))
            except FileTooBig:
                inbound = replace(inbound, file_too_big=True)
            except Exception as exc:  # any fetch failure: the update is still answered 200
                logger.exception("%s file of message %s", inbound.channel, inbound.message_id)
                inbound = replace(inbound, file_id=None, media_url=None)
                command = partial(commands.file_not_fetched, self.texts, _reason(exc))
        if inbound.group:
            return Handled(self.engine.handle_staff(inbound, command, parked))
        return self.engine.handle(inbound, parked)

    def _keep(self, inbound: Inbound, error: Exception) -> None:
        try:
            inbox.park(self.db, inbound, error)
        except SQLAlchemyError:
            path = inbox.spool(self.spool_dir, inbound)
            logger.warning(
                "database unavailable: %s message %s spooled to %s",
                inbound.channel,
                inbound.message_id,
                path.name,
            )

    def _kick(self, chats: set[tuple[str, str]]) -> None:
        for channel, chat_id in chats:
            self.courier.kick(channel, chat_id)

    def replay_parked(self) -> int:
        """The scheduler's job: move spooled messages into the database, then process the
        parked messages that are due; a message failing its last attempt is dropped with an
        apology to the visitor. Returns how many were processed."""
        inbox.ingest_spool(self.db, self.spool_dir)
        done = 0
        for inbound in inbox.due(self.db):
            try:
                self.courier.deliver(self._process(inbound, parked=True))
                done += 1
            except Exception as exc:
                logger.exception(
                    "parked %s message %s failed again", inbound.channel, inbound.message_id
                )
                if inbox.failed_again(self.db, inbound, exc) and not inbound.group:
                    logger.error("%s message %s given up", inbound.channel, inbound.message_id)
                    self._kick(self.engine.apologise(inbound))
        return done

    def topic_for(self, number: str) -> int:
        """The staff forum topic of ticket ``number``, created on first use and remembered."""
        with self.db.transaction() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            if ticket.topic_id:
                return ticket.topic_id
            office = self.pst.office(ticket.office_code)
            name = f"{number} · {ticket.visitor.nama or ticket.visitor.display_name or ''}"
        topic = self.senders[telegram.CHANNEL].create_topic(office.staff_chat_id, name)
        with self.db.transaction() as session:
            session.get(Ticket, ticket.id).topic_id = topic
        return topic

    def _store_file(self, inbound: Inbound) -> str:
        """Fetch a file sent with a message (Telegram file id, Twilio media URL) and keep it
        under ``<data>/tickets/<message id>/``; returns that relative path."""
        source = inbound.file_id or inbound.media_url
        content = self.senders[inbound.channel].download(source)
        name = secure_filename(inbound.file_name or "") or "berkas"
        relative = f"{inbound.message_id}/{name}"
        path = self.downloads.tickets_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return relative

    def sweep(self) -> None:
        """The scheduled ticket timers (:mod:`staff.jobs`): due-date reminders and overdue
        alerts for staff, reminders of unanswered consultations, and the seven-day close of
        idle consultations (with the warning the day before)."""
        self._kick(self.jobs.sweep())

    def purge(self, dry_run: bool = False) -> dict[str, int]:
        """The retention job (:class:`core.privacy.Purge`, each office's ``retensi``): erase
        expired profiles (their open tickets closed, staff told) and anonymise old message
        texts; returns counts per kind. ``dry_run`` only counts."""
        purge = privacy.Purge(
            self.pst,
            privacy.Eraser(self.settings.data_dir),
            lambda session, ids, by: handlers.privacy.close_open_tickets(
                session, ids, self.pst, self.texts, by
            ),
        )
        counts: dict[str, int] = {}

        def job(session) -> list:
            found, notices = purge.run(session, dry_run)
            counts.update(found)
            return notices

        self._kick(self.engine.run_job(job))
        return counts

    def start_scheduler(self) -> None:
        """Run this process's scheduler: it runs the jobs while it holds the deployment's
        scheduler lease, and waits as a standby otherwise (:mod:`bot.scheduler`)."""
        self.scheduler = scheduler.Scheduler(
            self.db,
            {
                "outbox-retry": (self.courier.deliver_due, self.settings.outbox_retry_seconds),
                "inbound-replay": (self.replay_parked, REPLAY_SECONDS),
                "sweep": (self.sweep, scheduler.SWEEP_MINUTES * 60),
                "privacy-purge": (self.purge, PURGE_SECONDS),
            },
        )
        self.scheduler.start()

    def close(self) -> None:
        """Stop the scheduler, finish deliveries in progress, close clients and connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        self.courier.close()
        self.downloads.close()
        for sender in self.senders.values():
            if hasattr(sender, "close"):
                sender.close()
        self.db.dispose()


def _reason(exc: Exception) -> str:
    """A short account of a failed file fetch, for staff."""
    return f"{type(exc).__name__}: {exc}"[:200]
