"""What every channel shares: the sender protocol, send errors, and text splitting."""

from __future__ import annotations

from typing import Any, Protocol

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from core.downloads import NotReady
from core.engine import Reply
from core.texts import Texts

WEBHOOK_MAX_BYTES = 256 * 1024  # far above any Telegram update or Twilio form
TEXT_MAX = 4096  # what the bot reads of one message (Telegram's own text limit)
ID_MAX = 64  # chat, user and message ids (the database columns)
NAME_MAX = 200


class Malformed(ValueError):
    """A webhook body the bot will never be able to process (answered 2xx, so that the
    channel does not re-deliver it, and logged without its content)."""


def webhook_body(request: Request) -> bytes:
    """The raw body of a webhook request, at most ``WEBHOOK_MAX_BYTES``.

    Raises:
        Malformed: the body is larger (by its Content-Length or as it streams in).
    """
    if (request.content_length or 0) > WEBHOOK_MAX_BYTES:
        raise Malformed(f"body of {request.content_length} bytes is too large")
    request.max_content_length = WEBHOOK_MAX_BYTES
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise Malformed("body is too large") from exc


def checked_id(value: Any, what: str) -> str:
    """``value`` as an id string (an int or 1–64 printable characters without spaces).

    Raises:
        Malformed: missing, of another type, empty or too long.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= ID_MAX or not value.isprintable():
        raise Malformed(f"{what} missing or invalid")
    if any(c.isspace() for c in value):
        raise Malformed(f"{what} missing or invalid")
    return value


def clip(value: Any, limit: int) -> str | None:
    """A text field cut to ``limit`` characters; None when absent.

    Raises:
        Malformed: present but not a string.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise Malformed("a text field is not a string")
    return value[:limit]


class SendError(Exception):
    """A channel call failed. ``temporary`` failures are retried, after at least ``retry_after``
    seconds when the API said so (Telegram 429 ``parameters.retry_after``). ``migrate_to``: the
    chat moved to this id (Telegram ``migrate_to_chat_id``, a group upgraded to a supergroup).
    ``alert``: the channel itself is broken (credentials refused) and the operator must act.
    ``window_closed``: WhatsApp's 24-hour window is closed (Twilio 63016): hold the message."""

    def __init__(
        self,
        message: str,
        *,
        temporary: bool,
        retry_after: float | None = None,
        migrate_to: str | None = None,
        alert: bool = False,
        window_closed: bool = False,
    ):
        super().__init__(message)
        self.window_closed = window_closed
        self.temporary = temporary
        self.retry_after = retry_after
        self.migrate_to = migrate_to
        self.alert = alert


def attachment_error(exc: Exception) -> SendError:
    """The :class:`SendError` of an attachment that could not be had for a send: one being
    prepared (:class:`core.downloads.NotReady`) is retried in 3 s; one not to be had (a
    ``LookupError``, an ``OSError``) fails for good."""
    if isinstance(exc, NotReady):
        return SendError(f"file {exc} being prepared", temporary=True, retry_after=3)
    return SendError(f"file unavailable: {type(exc).__name__}", temporary=False)


class FileTooBig(Exception):
    """A file sent to the bot is larger than the channel lets a bot download (Telegram getFile:
    20 MB)."""


class Sender(Protocol):
    """Makes one API call of a channel; raises :class:`SendError` when it does not succeed.
    Returns the channel's id of the message sent when it has one (Twilio's MessageSid)."""

    def send(self, method: str, payload: dict[str, Any]) -> str | None: ...


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
