"""The one place where channels are registered: the :class:`~core.channels.Channel` objects of
the channels the settings configure (Telegram with a bot token, WhatsApp with Twilio
credentials, email with an SMTP host, the terminal for ``pstbot chat``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TextIO

from bot.settings import Settings
from core.channels import Channel, email, local, telegram, whatsapp
from core.downloads import Downloads
from core.texts import Texts
from office.config import PstConfig


def configured(
    settings: Settings,
    pst: PstConfig,
    texts: Texts,
    downloads: Downloads,
    topic_for: Callable[[str], int],
    on_status: Callable[[str, str, str | None], bool],
    terminal: TextIO | None = None,
) -> dict[str, Channel]:
    """Channel name → channel, for what ``settings`` configure. ``topic_for(ticket number)``
    gives (creating it first if needed) a ticket's staff forum topic; ``on_status`` takes
    Twilio's delivery status callbacks; ``terminal`` adds the local channel writing there."""
    found = [
        _telegram(settings, texts, downloads, topic_for) if settings.telegram_enabled else None,
        _whatsapp(settings, pst, texts, downloads, on_status)
        if settings.whatsapp_enabled
        else None,
        _email(settings, texts, downloads) if settings.email_enabled else None,
        _local(terminal, texts, downloads) if terminal is not None else None,
    ]
    return {channel.name: channel for channel in found if channel is not None}


def _telegram(settings: Settings, texts: Texts, downloads: Downloads, topic_for) -> Channel:
    sender = telegram.TelegramSender(
        settings.telegram_bot_token,
        settings.telegram_api_url,
        partial(downloads.path, fetch=False),
        topic_for,
        downloads.url if downloads.links_enabled else None,
    )
    return Channel(
        telegram.CHANNEL,
        partial(telegram.render, texts=texts),
        sender,
        partial(telegram.blueprint, secret=settings.telegram_webhook_secret),
    )


def _whatsapp(settings, pst: PstConfig, texts: Texts, downloads: Downloads, on_status) -> Channel:
    base = settings.public_base_url
    sender = whatsapp.TwilioSender(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_url,
        downloads.url,
        downloads.size,
        f"{base}{whatsapp.STATUS_PATH}" if base else None,
    )

    def webhooks(receive):
        return whatsapp.blueprint(receive, pst, settings.twilio_auth_token, base, on_status)

    render = partial(whatsapp.render, texts=texts, choices=pst.whatsapp_choices)
    return Channel(whatsapp.CHANNEL, render, sender, webhooks)


def _email(settings: Settings, texts: Texts, downloads: Downloads) -> Channel:
    sender = email.EmailSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_starttls,
    )

    def render(to, _reply_from, lang, reply):
        return email.render(to, lang, reply, texts, downloads.tickets_dir)

    return Channel(email.CHANNEL, render, sender)


def _local(terminal: TextIO, texts: Texts, downloads: Downloads) -> Channel:
    sender = local.LocalSender(terminal, downloads.path)
    return Channel(local.CHANNEL, partial(local.render, texts=texts), sender)
