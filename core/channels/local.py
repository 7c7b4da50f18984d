"""The terminal channel behind ``pstbot chat``: the same conversations, no accounts needed."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from core.channels.base import numbered
from core.engine import Inbound, Reply
from core.texts import Texts

CHANNEL = "local"


def render(chat_id: str, _reply_from: str | None, lang: str, reply: Reply, texts: Texts):
    """One ``print`` call per reply, options numbered as on WhatsApp, a file by its id."""
    payload = {"text": numbered(reply, texts, lang)}
    if reply.attachment:
        payload["file"] = reply.attachment.key
    return [("print", payload)]


class LocalSender:
    """Writes replies to a terminal stream; a file is prepared and shown by its path."""

    def __init__(self, out: TextIO, documents: Callable[[str], Path]) -> None:
        self.out = out
        self.documents = documents

    def send(self, method: str, payload: dict[str, Any]) -> None:
        text = payload["text"]
        if "file" in payload:
            text += f"\n[file: {self.documents(payload['file'])}]"
        print(f"\nPST Bot:\n{text}", file=self.out, flush=True)


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
