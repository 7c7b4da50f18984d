"""One running PST Bot: database, engine, channel senders, outbox courier and scheduler."""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.base import BaseScheduler

import handlers
from bot import scheduler
from bot.channels import local, telegram, whatsapp
from bot.channels.base import Sender
from bot.config import PstConfig
from bot.engine import Engine, Inbound, Reply
from bot.outbox import Courier
from bot.settings import Settings
from bot.texts import Texts
from storage.db import Database, migrate
from storage.models import Visitor

logger = logging.getLogger(__name__)
RENDERERS = {
    telegram.CHANNEL: telegram.render,
    whatsapp.CHANNEL: whatsapp.render,
    local.CHANNEL: local.render,
}


def render(inbound: Inbound, visitor: Visitor, reply: Reply, texts: Texts):
    """Outbox rows for ``reply`` in the visitor's channel."""
    return RENDERERS[visitor.channel](inbound, visitor, reply, texts)


class Service:
    """Everything one process needs; ``senders`` adds or replaces channel senders (the
    terminal channel of ``pstbot chat``)."""

    def __init__(
        self, settings: Settings, pst: PstConfig, senders: dict[str, Sender] | None = None
    ) -> None:
        self.settings = settings
        self.pst = pst
        self.db = Database(settings.database_url)
        migrate(self.db.engine)
        self.texts = Texts.load()
        self.senders: dict[str, Any] = {}
        if settings.telegram_enabled:
            self.senders[telegram.CHANNEL] = telegram.TelegramSender(
                settings.telegram_bot_token, settings.telegram_api_url
            )
        if settings.whatsapp_enabled:
            self.senders[whatsapp.CHANNEL] = whatsapp.TwilioSender(
                settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url
            )
        self.senders.update(senders or {})
        self.courier = Courier(self.db, self.senders, settings.outbox_backoff_seconds)
        self.engine = Engine(self.db, pst, self.texts, handlers.STATES, handlers.route, render)
        self.scheduler: BaseScheduler | None = None

    def receive(self, inbound: Inbound) -> None:
        """Handle one inbound message and start delivering its replies."""
        if self.engine.handle(inbound):
            self.courier.kick(inbound.channel, inbound.chat_id)

    def start_scheduler(self) -> None:
        """Run this process's scheduler (only one per deployment)."""
        self.scheduler = scheduler.start(self)

    def close(self) -> None:
        """Stop the scheduler, finish deliveries in progress, close clients and connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.courier.close()
        for sender in self.senders.values():
            if hasattr(sender, "close"):
                sender.close()
        self.db.dispose()
