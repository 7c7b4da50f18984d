"""What every channel shares: the sender protocol, send errors, and text splitting."""

from __future__ import annotations

from typing import Any, Protocol

from bot.engine import Reply
from bot.texts import Texts


class SendError(Exception):
    """A channel call failed. ``temporary`` failures are retried, after at least ``retry_after``
    seconds when the API said so (Telegram 429 ``parameters.retry_after``). ``migrate_to``: the
    chat moved to this id (Telegram ``migrate_to_chat_id``, a group upgraded to a supergroup).
    ``alert``: the channel itself is broken (credentials refused) and the operator must act."""

    def __init__(
        self,
        message: str,
        *,
        temporary: bool,
        retry_after: float | None = None,
        migrate_to: str | None = None,
        alert: bool = False,
    ):
        super().__init__(message)
        self.temporary = temporary
        self.retry_after = retry_after
        self.migrate_to = migrate_to
        self.alert = alert


class Sender(Protocol):
    """Makes one API call of a channel; raises :class:`SendError` when it does not succeed."""

    def send(self, method: str, payload: dict[str, Any]) -> None: ...


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at paragraph or line ends
    where possible, so that no channel length limit is ever exceeded."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces


def numbered(reply: Reply, texts: Texts, lang: str) -> str:
    """The reply's text with its options as a numbered list, for channels without buttons
    (WhatsApp, the terminal): the visitor answers with the number or the words."""
    if not reply.options:
        return reply.text
    lines = [f"{n}. {option.label}" for n, option in enumerate(reply.options, 1)]
    return "\n".join([reply.text, "", *lines, "", f"_{texts.get(lang, 'options_hint')}_"])
