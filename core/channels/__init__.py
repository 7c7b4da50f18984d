"""The channels: each is one :class:`Channel` object — its name, how a reply becomes the
channel's API calls (``render``), the sender that makes those calls after the commit, and its
webhooks (``blueprint``). The application registers the configured ones in one place
(:mod:`bot.channels`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint

from core.engine import Inbound, Reply

Rows = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Channel:
    """``render(chat_id, reply_from, lang, reply)`` gives the outbox rows (``(method,
    payload)``) of a reply; ``sender.send(method, payload)`` makes one call
    (:class:`core.channels.base.Sender`); ``blueprint(receive)`` builds the webhooks that hand
    each :class:`~core.engine.Inbound` to ``receive`` (None: a channel nobody writes in on)."""

    name: str
    render: Callable[[str, str | None, str, Reply], Rows]
    sender: Any
    blueprint: Callable[[Callable[[Inbound], None]], Blueprint] | None = None
