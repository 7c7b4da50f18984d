"""The terminal channel behind ``pstbot chat``: the same conversations, no accounts needed."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, TextIO

from bot.channels.base import numbered
from bot.engine import Inbound, Reply
from bot.texts import Texts
from storage.models import Visitor

CHANNEL = "local"


def render(_inbound: Inbound, visitor: Visitor, reply: Reply, texts: Texts):
    """One ``print`` call per reply, options numbered as on WhatsApp."""
    return [("print", {"text": numbered(reply, texts, visitor.lang)})]


class LocalSender:
    """Writes replies to a terminal stream."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, method: str, payload: dict[str, Any]) -> None:
        print(f"\nPST Bot:\n{payload['text']}", file=self.out, flush=True)


class LocalSession:
    """Turns lines typed by ``user`` into inbound messages with fresh ids."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.run = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
        self.counter = itertools.count(1)

    def inbound(self, text: str) -> Inbound:
        """An :class:`Inbound` for one typed line."""
        return Inbound(
            channel=CHANNEL,
            user_id=self.user,
            chat_id=self.user,
            message_id=f"{self.run}-{next(self.counter)}",
            text=text,
            display_name=self.user,
        )
