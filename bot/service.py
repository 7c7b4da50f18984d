"""One running PST Bot: database, catalogue, engine, channel senders, outbox and scheduler."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import partial
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from werkzeug.utils import secure_filename

import handlers
import handlers.privacy
from bot import inbox, privacy, scheduler
from bot.channels import email, local, telegram, whatsapp
from bot.channels.base import FileTooBig
from bot.config import PstConfig
from bot.downloads import Downloads
from bot.engine import Engine, Handled, Inbound, Reply
from bot.outbox import Courier
from bot.settings import Settings
from bot.texts import Texts
from bot.window import WindowGate
from catalogue.importer import load_default
from catalogue.kb import KnowledgeBase
from catalogue.search import SearchIndex
from handlers import handover, rating, staff_desk
from storage.db import Database, migrate
from storage.models import Publication, Ticket

logger = logging.getLogger(__name__)
REPLAY_SECONDS = 5  # how often parked inbound messages are looked at
PURGE_SECONDS = 3600  # how often expired personal data is looked for (retention, UU 27/2022)
TICKET_NUMBER = re.compile(r"\b[A-Z]{2}-\d{4}-\d{8}-\d{4}\b")  # storage/tickets.py numbers
RENDERERS = {
    telegram.CHANNEL: telegram.render,
    whatsapp.CHANNEL: whatsapp.render,
    local.CHANNEL: local.render,
}


class StartupError(Exception):
    """The service cannot start; the message names the setting and the reason in one line."""


def _database(url: str) -> Database:
    """The database at ``url``, migrated to the newest schema.

    Raises:
        StartupError: ``DATABASE_URL`` is malformed or the database cannot be reached.
    """
    try:
        db = Database(url)
    except (ArgumentError, ValueError) as exc:
        raise StartupError(f"DATABASE_URL is not a database URL: {exc}") from exc
    try:
        migrate(db.engine)
    except OperationalError as exc:
        shown = db.engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StartupError(f"DATABASE_URL: cannot use {shown}: {reason}") from exc
    return db


class Service:
    """Everything one process needs. ``terminal`` turns on the local channel of ``pstbot chat``,
    writing replies to that stream."""

    def __init__(self, settings: Settings, pst: PstConfig, terminal: TextIO | None = None) -> None:
        self.settings = settings
        self.pst = pst
        self.db = _database(settings.database_url)
        self.texts = Texts.load()
        self.spool_dir = settings.data_dir / "spool"
        self.downloads = Downloads(
            self.db, pst, settings.data_dir, settings.secret_key, settings.public_base_url
        )
        self.senders: dict[str, Any] = {}
        if settings.telegram_enabled:
            self.senders[telegram.CHANNEL] = telegram.TelegramSender(
                settings.telegram_bot_token,
                settings.telegram_api_url,
                partial(self.downloads.path, fetch=False),
                self.topic_for,
                self.downloads.url if self.downloads.links_enabled else None,
            )
        for line in pst.warnings(shared_number=settings.whatsapp_enabled):
            logger.warning("%s", line)
        if settings.whatsapp_enabled:
            base = settings.public_base_url
            self.senders[whatsapp.CHANNEL] = whatsapp.TwilioSender(
                settings.twilio_account_sid,
                settings.twilio_auth_token,
                settings.twilio_api_url,
                self.downloads.url,
                self.downloads.size,
                f"{base}{whatsapp.STATUS_PATH}" if base else None,
            )
        if settings.email_enabled:
            self.senders[email.CHANNEL] = email.EmailSender(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_from,
                settings.smtp_username,
                settings.smtp_password,
                settings.smtp_starttls,
            )
        if terminal is not None:
            self.senders[local.CHANNEL] = local.LocalSender(terminal, self.downloads.path)
        self.engine = Engine(self.db, pst, self.texts, handlers.STATES, handlers.route, self.render)
        self.engine.channels = frozenset(self.senders)
        gate = WindowGate(pst, self.texts, self.engine.write, rating.withdraw)
        self.courier = Courier(self.db, self.senders, settings.outbox_backoff_seconds, gate=gate)
        self.engine.data_dir = settings.data_dir
        self.staff_command = staff_desk.command_handler(
            pst, self.texts, email=email.CHANNEL in self.senders
        )
        self.load_catalogue()
        self.scheduler: scheduler.Scheduler | None = None

    def load_catalogue(self) -> None:
        """Load the shipped catalogue into an empty database, (re)build the search index and
        load the consultation knowledge base. (The sample PDFs of the demonstration records
        are made when first downloaded.)"""
        with self.db.transaction() as session:
            empty = not session.scalar(select(func.count(Publication.id)))
        if empty:
            counts = load_default(self.db)
            logger.info("empty catalogue: loaded the shipped publications %s", counts)
        self.engine.catalogue = SearchIndex.from_db(self.db)
        self.engine.kb = KnowledgeBase.load()

    def render(
        self, channel: str, chat_id: str, reply_from: str | None, lang: str, reply: Reply
    ) -> list[tuple[str, dict[str, Any]]]:
        """Outbox rows for ``reply`` to ``chat_id`` on ``channel``; none (and a warning) for a
        channel without a sender here: such a row would wait in the outbox forever."""
        if channel not in self.senders:
            logger.warning("no %s sender: a message to %s is not queued", channel, chat_id)
            return []
        if channel == email.CHANNEL:
            return [(email.METHOD, self._email_payload(chat_id, lang, reply))]
        if channel == whatsapp.CHANNEL:
            return whatsapp.render(
                chat_id, reply_from, lang, reply, self.texts, self.pst.whatsapp_choices
            )
        return RENDERERS[channel](chat_id, reply_from, lang, reply, self.texts)

    def _email_payload(self, to: str, lang: str, reply: Reply) -> dict[str, Any]:
        attachments = []
        if reply.attachment and reply.attachment.key.startswith("tiket/"):
            path = self.downloads.tickets_dir / reply.attachment.key.removeprefix("tiket/")
            attachments.append({"path": str(path), "filename": reply.attachment.filename})
        if number := TICKET_NUMBER.search(reply.text):  # "data ready": short, with the ticket
            subject = self.texts.get(lang, "email_subject_ticket", number=number[0])
        else:
            subject = self.texts.get(lang, "email_subject", first=reply.text.split("\n")[0][:120])
        return {"to": to, "subject": subject, "text": reply.text, "attachments": attachments}

    def receive(self, inbound: Inbound) -> None:
        """Handle one inbound message and start delivering what it produced. A file sent with
        it is fetched first and stored under ``<data>/tickets/``; when it cannot be fetched,
        the message goes on without it (staff are told in their group).

        A message whose processing fails is kept and retried by the scheduler
        (:mod:`bot.inbox`): parked in the database, or spooled to a file when the database
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
                command = partial(staff_desk.file_not_fetched, self.texts, _reason(exc))
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
        """The scheduled timers: due-date reminders and overdue alerts for staff, and the
        seven-day close of idle consultations (with the warning the day before)."""
        for job in (staff_desk.reminders, handover.idle_sweep):
            for channel, chat_id in self.engine.run_job(
                partial(job, pst=self.pst, texts=self.texts)
            ):
                self.courier.kick(channel, chat_id)

    def purge(self, dry_run: bool = False) -> dict[str, int]:
        """The retention job (:class:`bot.privacy.Purge`, each office's ``retensi``): erase
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
