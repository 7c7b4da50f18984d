"""Telegram: the webhook (``POST /webhook/telegram``), reply rendering, and the sender.

Rules from the Bot API (https://core.telegram.org/bots/api): the webhook's ``secret_token``
comes back in ``X-Telegram-Bot-Api-Secret-Token``; any non-2xx answer makes Telegram deliver the
update again; a text is at most 4096 characters; ``callback_data`` is 1–64 bytes; a 429 carries
``parameters.retry_after``.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import urllib3
from flask import Blueprint, jsonify, request

# Opt in to PTB 22's timedelta-valued ``RetryAfter.retry_after`` (the int form is deprecated).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from core.address import Address
from core.channels.base import (
    NAME_MAX,
    TEXT_MAX,
    FileTooBig,
    Malformed,
    SendError,
    attachment_error,
    checked_id,
    clip,
    split_text,
    webhook_body,
)
from core.downloads import NotReady
from core.engine import Inbound, Reply
from core.texts import Texts

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
CAPTION_MAX = 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPLOAD_MAX = 50 * 2**20  # bytes; Bot API "Sending files": other files up to 50 MB
DOWNLOAD_MAX = 20 * 2**20  # bytes; Bot API getFile: "bots can download files of up to 20MB"
SEND_TIMEOUT = 60.0  # seconds; below the outbox lease, so a row is never sent twice at once


def parse_update(data: Any) -> Inbound | None:
    """Turn a Telegram ``Update`` (decoded JSON) into an :class:`Inbound`.

    Returns None for updates the bot does not serve (edits, membership changes, group talk that
    is not a command). In a group (the staff chat) a document on the message, or on the message
    it answers, comes along as ``file_id``/``file_name``. Names are cut to 200 characters and
    texts to 4096.

    Raises:
        Malformed: ``data`` is not an Update the bot can read (no integer ``update_id``, a
            missing sender or chat, ids too long, a text that is not a string, a bad date …).
    """
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise Malformed("not a Telegram Update: update_id missing")
    try:
        return _inbound(Update.de_json(data, None), data)
    except Malformed:
        raise
    except Exception as exc:  # PTB's de_json trusts its input: any type can break it
        raise Malformed(f"malformed Update: {type(exc).__name__}") from exc


def _inbound(update: Update, data: dict[str, Any]) -> Inbound | None:
    common = {"channel": CHANNEL, "message_id": checked_id(update.update_id, "update_id")}
    if (query := update.callback_query) is not None:
        chat = query.message.chat if query.message else None
        return Inbound(
            user_id=checked_id(query.from_user.id, "from.id"),
            chat_id=checked_id(chat.id if chat else query.from_user.id, "chat.id"),
            group=chat is not None and chat.type != "private",
            payload=clip(query.data, TEXT_MAX),
            callback_id=checked_id(query.id, "callback_query.id"),
            display_name=clip(query.from_user.full_name, NAME_MAX),
            raw=data,
            **common,
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    group = message.chat.type != "private"
    text = clip(message.text, TEXT_MAX) or clip(message.caption, TEXT_MAX) or ""
    topic = message.message_thread_id if message.is_topic_message else None
    if group and not text.startswith("/") and topic is None:
        return None  # staff talking among themselves outside a hand-over topic
    file_id, file_name = _file_of(message)
    return Inbound(
        user_id=checked_id(message.from_user.id, "from.id"),
        chat_id=checked_id(message.chat.id, "chat.id"),
        text=re.sub(r"^(/\w+)@\w+", r"\1", text) if group else text,
        display_name=clip(message.from_user.full_name, NAME_MAX),
        received_at=message.date,
        group=group,
        thread_id=topic if isinstance(topic, int) else None,
        file_id=clip(file_id, 256),
        file_name=clip(file_name, NAME_MAX),
        raw=data,
        **common,
    )


def _file_of(message: Any) -> tuple[str | None, str | None]:
    """The document or (largest) photo on the message, or on the message it answers."""
    for msg in (message, message.reply_to_message):
        if msg is None:
            continue
        if msg.document:
            return msg.document.file_id, msg.document.file_name
        if msg.photo:
            return msg.photo[-1].file_id, f"foto-{msg.message_id}.jpg"
    return None, None


def render(chat_id: str, _reply_from: str | None, lang: str, reply: Reply, texts: Texts):
    """Bot API calls for ``reply``: ``sendMessage`` (long texts split, options as an inline
    keyboard), ``sendDocument`` for a file with the text as caption when it fits 1024 (with
    ``too_big``: the text that replaces a file over 50 MB by its link, in ``lang``)."""
    text = reply.text
    calls: list[tuple[str, dict[str, Any]]] = []
    address = Address.parse(CHANNEL, chat_id)
    chat_id, topic = address.chat_id, address.topic
    if reply.attachment:
        caption = text if len(text) <= CAPTION_MAX else ""
        text = "" if caption else text
    calls += [("sendMessage", {"chat_id": chat_id, "text": p}) for p in split_text(text, TEXT_MAX)]
    if reply.attachment:
        document = {
            "key": reply.attachment.key,
            "filename": reply.attachment.filename,
            "too_big": texts.get(lang, "file_as_link"),
        }
        calls.append(
            ("sendDocument", {"chat_id": chat_id, "document": document, "caption": caption})
        )
    if reply.options:
        keyboard = [[{"text": o.label, "callback_data": o.key}] for o in reply.options]
        calls[-1][1]["reply_markup"] = {"inline_keyboard": keyboard}
    if reply.end_thread and topic:
        calls.append(("closeForumTopic", {"chat_id": chat_id}))
    if topic:
        for _, payload in calls:
            payload["topic"] = topic
    return calls


def blueprint(receive: Callable[[Inbound], None], secret: str) -> Blueprint:
    """The webhook: 403 on a wrong secret, else 200 — also for repeats and for updates that
    can never be read (too large, malformed: logged); 5xx only when ``receive`` could not even
    keep the update (then Telegram re-delivers it)."""
    bp = Blueprint("telegram", __name__)

    @bp.post("/webhook/telegram")
    def webhook():
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning(
                "telegram webhook refused: wrong secret token from %s", request.remote_addr
            )
            return jsonify(error="forbidden"), 403
        try:
            inbound = parse_update(_json(webhook_body(request)))
        except Malformed as exc:
            # 200: Telegram would re-deliver anything else, and this will never be readable.
            logger.warning("telegram update ignored: %s", exc)
            return jsonify(ok=True, ignored=str(exc))
        if inbound is not None:
            receive(inbound)
        return jsonify(ok=True)

    return bp


def _send_error(exc: Exception) -> SendError:
    """How the outbox should treat a Bot API error (python-telegram-bot's exception types)."""
    name = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RetryAfter):
        seconds = exc.retry_after
        seconds = seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds
        return SendError(name, temporary=True, retry_after=float(seconds))
    if isinstance(exc, ChatMigrated):
        return SendError(name, temporary=True, migrate_to=str(exc.new_chat_id))
    if isinstance(exc, InvalidToken):
        return SendError(name, temporary=False, alert=True)
    if isinstance(exc, BadRequest | Forbidden):
        return SendError(name, temporary=False)
    if isinstance(exc, TelegramError):  # NetworkError, TimedOut, Conflict, server errors
        return SendError(name, temporary=True)
    raise exc


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise Malformed(f"not JSON: {type(exc).__name__}") from exc


class TelegramSender:
    """Calls the Bot API over one pooled, keep-alive :class:`urllib3.PoolManager`, safe to
    share between threads (a connection per concurrent call, reused afterwards; urllib3 spends
    about half of httpx's CPU on a call, and a call was a fifth of a message's CPU, issue 12).

    Every call posts JSON, or ``multipart/form-data`` with the non-string fields JSON-encoded
    when a file is uploaded (Bot API "Making requests"). An error answer becomes the exception
    python-telegram-bot would raise for it (:func:`_api_error`), so the outbox treats it the
    same (:func:`_send_error`). A Bot round-trip on an event loop per send cost about 4 ms of
    CPU per message (issue 12); this client costs a fraction of it.
    """

    def __init__(
        self,
        token: str,
        api_url: str,
        documents: Callable[[str], Path] | None = None,
        topics: Callable[[str], int] | None = None,
        links: Callable[[str, str], str] | None = None,
    ) -> None:
        self._url = f"{api_url}/bot{token}"
        self._file_url = f"{api_url}/file/bot{token}"
        # Connections are opened on first use, so after a gunicorn worker forks.
        self._pool = urllib3.PoolManager(maxsize=8, retries=False)
        self._documents = documents
        self._topics = topics
        self._links = links

    def _call(
        self,
        method: str,
        params: dict[str, Any],
        timeout: float,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> Any:
        """The ``result`` of Bot API call ``method``.

        Raises:
            telegram.error.TelegramError: the API answered an error (:func:`_api_error`), or
                ``TimedOut``/``NetworkError`` when it could not be reached in ``timeout`` s.
        """
        url = f"{self._url}/{method}"
        response = self._request("POST", url, timeout, params, files)
        answer = _answer(response)
        if 200 <= response.status < 300 and answer.get("ok"):
            return answer.get("result")
        raise _api_error(response.status, answer)

    def _request(
        self,
        method: str,
        url: str,
        timeout: float,
        params: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """The answer to one HTTP call.

        Raises:
            telegram.error.TimedOut: no answer in ``timeout`` s.
            telegram.error.NetworkError: the API could not be reached.
        """
        if files:
            data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            kwargs: dict[str, Any] = {"fields": {**data, **files}}
        else:
            kwargs = {"json": params} if params is not None else {}
        try:
            return self._pool.request(method, url, timeout=timeout, **kwargs)
        except urllib3.exceptions.NewConnectionError as exc:  # a TimeoutError in urllib3 2
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise TimedOut(f"no answer in {timeout} s") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise NetworkError(f"{type(exc).__name__}: {exc}") from exc

    def _document(self, method: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any], Any]:
        """The upload of ``kwargs["document"]`` as ``(method, params, files)``. A file over the
        50 MB upload limit becomes a message with its signed link (``too_big``) when links can
        be made.

        Raises:
            SendError: not ready yet (temporary) or not to be had (permanent).
        """
        document = kwargs["document"]
        try:
            path = self._documents(document["key"])
            size = path.stat().st_size
            if size > UPLOAD_MAX and self._links:
                link = self._links(document["key"], document["filename"])
                note = document.get("too_big", "{link}").format(
                    name=document["filename"], size=f"{size / 2**20:.0f}", link=link
                )
                text = "\n\n".join(filter(None, (kwargs.pop("caption", ""), note)))
                kwargs.pop("document")
                return "sendMessage", {**kwargs, "text": text[:TEXT_MAX]}, None
            kwargs.pop("document")
            return method, kwargs, {"document": (document["filename"], path.read_bytes())}
        except (NotReady, LookupError, OSError) as exc:
            raise attachment_error(exc) from exc

    def create_topic(self, chat_id: int, name: str) -> int:
        """Create a forum topic in ``chat_id`` (a forum supergroup) and return its
        ``message_thread_id``; ``name`` is cut to Telegram's 128 characters.

        Raises:
            telegram.error.TelegramError: not a forum, no right to manage topics, unreachable.
        """
        topic = self._call("createForumTopic", {"chat_id": chat_id, "name": name[:128]}, 60)
        return topic["message_thread_id"]

    def download(self, file_id: str) -> bytes:
        """The bytes of a file sent to the bot (``getFile`` then the file URL, up to 20 MB).

        Raises:
            FileTooBig: over the 20 MB a bot may download (getFile answers "file is too big").
            telegram.error.TelegramError: unknown file, or Telegram unreachable.
        """
        try:
            found = self._call("getFile", {"file_id": file_id}, 60)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                raise FileTooBig(file_id) from exc
            raise
        answer = self._request("GET", f"{self._file_url}/{found['file_path']}", 120)
        if not 200 <= answer.status < 300:
            raise _api_error(answer.status, {})
        return answer.data

    def send(self, method: str, payload: dict[str, Any]) -> None:
        """Make Bot API call ``method``, waiting at most ``SEND_TIMEOUT`` seconds. Raises
        :class:`SendError`: 429/5xx/network/timeouts are temporary; a group that became a
        supergroup gives ``migrate_to``; a refused token is permanent and ``alert`` (the
        operator must act)."""
        kwargs, files = dict(payload), None
        if "topic" in kwargs:  # may create the topic first
            topic = kwargs.pop("topic")
            kwargs["message_thread_id"] = int(topic) if topic.isdigit() else self._topics(topic)
        if isinstance(kwargs.get("document"), dict):
            method, kwargs, files = self._document(method, kwargs)
        try:
            self._call(method, kwargs, SEND_TIMEOUT, files)
        except TelegramError as exc:
            raise _send_error(exc) from exc

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()


def _answer(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    """The Bot API's JSON answer; empty when it is not a JSON object."""
    try:
        body = json.loads(response.data)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _api_error(status: int, body: dict[str, Any]) -> TelegramError:
    """The exception python-telegram-bot raises for a Bot API error answer
    (``telegram.request.BaseRequest``): ``parameters.migrate_to_chat_id`` → ChatMigrated,
    ``parameters.retry_after`` → RetryAfter, 403 → Forbidden, 401/404 → InvalidToken,
    400 → BadRequest, 409 → Conflict, anything else → NetworkError."""
    try:
        message = f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    message = body.get("description") or message
    parameters = body.get("parameters") or {}
    if parameters.get("migrate_to_chat_id"):
        return ChatMigrated(parameters["migrate_to_chat_id"])
    if parameters.get("retry_after"):
        return RetryAfter(parameters["retry_after"])
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        return InvalidToken(message)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if status == HTTPStatus.CONFLICT:
        return Conflict(message)
    return NetworkError(message)
