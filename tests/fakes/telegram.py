"""Fake Telegram Bot API server (https://core.telegram.org/bots/api).

Requests arrive as ``GET|POST /bot<token>/<method>`` ("Making requests"); method names are
case-insensitive and parameters may come in the query string,
``application/x-www-form-urlencoded``, ``application/json`` or ``multipart/form-data``.
python-telegram-bot 22 sends form-encoded bodies in which every non-string value is JSON-encoded
(``chat_id=42``, ``reply_markup={"inline_keyboard":…}``, ``show_alert=true``), switching to
multipart only when a file is uploaded (the file as a part named after the parameter).

Answers have the real shapes: ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": N, "description": "…", "parameters": {…}}``. The descriptions are the
official server's (tdlib/telegram-bot-api) where known; a few marked *approximate* are plausible
wording for checks whose exact text was not verified. Lengths are counted in Unicode code points
(Python ``len``) of the text after entity parsing, trimmed: MTProto's ``message_length_max`` and
``caption_length_max`` are "length in utf8 codepoints" (https://core.telegram.org/api/config).

Files: ``getFile`` answers a ``File`` whose ``file_path`` (``documents/file_N.pdf``) is then
downloaded from ``GET /file/bot<token>/<file_path>`` ("getFile": the link is
``https://api.telegram.org/file/bot<token>/<file_path>``; bots download at most 20 MB). Files the
bot uploaded and files registered with :meth:`FakeTelegram.add_file` (what a user posted) can be
fetched; documents sent by URL cannot (the fake never fetches the URL).

Not modelled: Markdown/MarkdownV2 parsing (only ``parse_mode=HTML`` is parsed and validated), flood
limits (inject them with :meth:`FakeTelegram.fail_next`), ``inline_message_id`` edits.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import re
import secrets
import threading
import time
import zlib
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import Flask, Response, request

from . import FakeServer

TEXT_LIMIT = 4096  # sendMessage "text": 1-4096 characters after entities parsing
CAPTION_LIMIT = 1024  # "caption": 0-1024 characters after entities parsing
CALLBACK_DATA_LIMIT = 64  # InlineKeyboardButton "callback_data": 1-64 bytes
CALLBACK_ANSWER_LIMIT = 200  # answerCallbackQuery "text": 0-200 characters
TOPIC_NAME_LIMIT = 128  # createForumTopic "name": 1-128 characters
UPLOAD_LIMIT = 50 * 1024 * 1024  # "Sending files": 50 MB for other files
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "bots can download files of up to 20MB in size"
TOPIC_ICON_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
COMMANDS_LIMIT = 100  # setMyCommands: "At most 100 commands can be specified"
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")  # BotCommand.command: 1-32 chars, a-z 0-9 _
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})  # setWebhook: "Ports currently supported"

# Button fields of which exactly one must be set (InlineKeyboardButton).
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_INT_FIELDS = frozenset(
    {"chat_id", "message_thread_id", "message_id", "icon_color", "max_connections", "cache_time",
     "reply_to_message_id"}
)  # fmt: skip
_BOOL_FIELDS = frozenset(
    {"show_alert", "disable_notification", "protect_content", "drop_pending_updates",
     "disable_content_type_detection", "allow_sending_without_reply", "allow_paid_broadcast"}
)  # fmt: skip
_JSON_FIELDS = frozenset(
    {"reply_markup", "entities", "caption_entities", "link_preview_options", "reply_parameters",
     "allowed_updates", "commands"}
)  # fmt: skip
# "HTML style": the supported tags.
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
     "tg-emoji", "code", "pre", "blockquote"}
)  # fmt: skip
_HTML_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_HTML_ATTRS = re.compile(
    r"""(?:\s+[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9.-]+))?)*\s*>"""
)
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
}


@dataclass(frozen=True)
class Upload:
    """A file received as a ``multipart/form-data`` part."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class TelegramCall:
    """One request as received: ``params`` has JSON, integer and boolean fields decoded and
    uploaded files as :class:`Upload`; ``response`` is the JSON answered."""

    method: str  # documented spelling ("sendMessage") when known, else as requested
    params: dict[str, Any]
    time: float
    ok: bool
    status: int
    response: dict[str, Any]


class TelegramApiError(Exception):
    """An error answer: HTTP status = ``error_code`` (Bot API "Making requests")."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class _Described(NamedTuple):
    """A result answered together with a ``description`` (setWebhook, deleteWebhook)."""

    result: Any
    description: str


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


def token_rejection(token: str) -> TelegramApiError | None:
    """The error the official server gives a malformed token before looking it up
    (tdlib/telegram-bot-api ``ClientManager::send``), or None if the shape is acceptable."""
    if not token or token[0] == "0" or len(token) > 80 or "/" in token or ":" not in token:
        return TelegramApiError(401, "Unauthorized: invalid token specified")
    try:
        bot_id = int(token.split(":", 1)[0])
    except ValueError:
        return TelegramApiError(421, "Misdirected Request: unallowed token specified")
    if not 0 < bot_id < 1 << 54:
        return TelegramApiError(401, "Unauthorized: invalid token specified")
    return None


def parse_html(text: str) -> str:
    """Validate ``parse_mode=HTML`` text as the Bot API does ("HTML style") and return the plain
    text. Raises the 400 "can't parse entities: …" errors (byte offsets in UTF-8)."""

    def fail(message: str) -> TelegramApiError:
        return _bad(f"can't parse entities: {message}")

    def offset(pos: int) -> int:
        return len(text[:pos].encode())

    out: list[str] = []
    open_tags: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&" and (entity := _HTML_ENTITY.match(text, i)):
            try:
                out.append(unescape(entity.group()))
            except (ValueError, OverflowError):
                out.append(entity.group())
            i = entity.end()
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue
        begin = i
        if text.startswith("</", i):
            if not open_tags:
                raise fail(f"Unexpected end tag at byte offset {offset(begin)}")
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {offset(begin)}")
            if name and name != open_tags[-1]:
                raise fail(
                    f"Unmatched end tag at byte offset {offset(begin)}, "
                    f'expected "</{open_tags[-1]}>", found "</{name}>"'
                )
            open_tags.pop()
            i = j + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {offset(begin)}")
        name = text[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {offset(begin)}')
        attrs = _HTML_ATTRS.match(text, j)
        if attrs is None:
            raise fail(f'Unclosed start tag "{name}" at byte offset {offset(begin)}')
        if name == "span" and not re.search(r"""class\s*=\s*["']?tg-spoiler""", attrs.group()):
            raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset(begin)}')
        open_tags.append(name)
        i = attrs.end()
    if open_tags:
        raise fail(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def _decode(name: str, value: Any) -> Any:
    """Decode a form value the way the Bot API reads that parameter."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value  # left for the validators to reject
    if name in _INT_FIELDS and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if name in _BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


def _chat_id(params: dict[str, Any]) -> int | str:
    value = params.get("chat_id")
    if value is None or value == "":
        raise _bad("chat_id is empty")
    if isinstance(value, int) and not isinstance(value, bool) and value != 0:
        return value
    if isinstance(value, str) and _USERNAME.fullmatch(value):
        return value
    raise _bad("chat not found")


def chat_type(chat_id: int | str) -> str:
    """Chat type implied by an id: positive → private, ``-100…`` → supergroup, other negative →
    (basic) group, ``@username`` → channel (Bot API "Chat"; supergroup ids are -100 + id)."""
    if isinstance(chat_id, str):
        return "channel"
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _chat_object(chat_id: int | str) -> dict[str, Any]:
    kind = chat_type(chat_id)
    if kind == "private":
        return {"id": chat_id, "type": kind, "first_name": "Visitor"}
    if isinstance(chat_id, str):
        fake_id = -1_000_000_000_000 - zlib.crc32(chat_id.encode())
        return {"id": fake_id, "type": kind, "title": chat_id[1:], "username": chat_id[1:]}
    return {"id": chat_id, "type": kind, "title": "Group"}


def _check_inline_button(button: Any) -> None:
    """InlineKeyboardButton: non-empty ``text`` and exactly one action field."""
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise _bad(prefix + "InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _bad(prefix + 'Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _bad(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise _bad("BUTTON_TEXT_INVALID")  # approximate
    actions = [field for field in _BUTTON_ACTIONS if field in button]
    if not actions:
        raise _bad(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:  # approximate wording; the docs demand exactly one
        raise _bad(prefix + f"exactly one of the optional fields must be used, got {actions}")
    kind, value = actions[0], button[actions[0]]
    if kind == "callback_data":
        if not isinstance(value, str):
            raise _bad(prefix + 'Field "callback_data" must be of type String')
        if not 1 <= len(value.encode()) <= CALLBACK_DATA_LIMIT:
            raise _bad("BUTTON_DATA_INVALID")
    elif kind == "url":
        if not isinstance(value, str):
            raise _bad(prefix + 'Field "url" must be of type String')
        parts = urlsplit(value if "://" in value else f"http://{value}")
        host = parts.hostname or ""
        if parts.scheme.lower() not in ("http", "https", "tg") or (
            parts.scheme.lower() != "tg" and "." not in host
        ):
            raise _bad(f"inline keyboard button URL '{value}' is invalid: Wrong HTTP URL")


def _reply_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """Validate ``reply_markup``; return it when it is an inline keyboard (echoed in Messages)."""
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        for row in rows:
            if not isinstance(row, list):
                raise _bad(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for button in row:
                _check_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        return None
    if "remove_keyboard" in markup or "force_reply" in markup:
        return None
    raise _bad("can't parse reply keyboard markup JSON object")  # approximate


class FakeTelegram(FakeServer):
    """Fake Bot API for one bot ``token``; the app uses
    ``Bot(token, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot")``.

    Methods: getMe, getFile, sendMessage, sendDocument, sendChatAction, editMessageText,
    editMessageReplyMarkup, answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo,
    setMyCommands, getMyCommands,
    createForumTopic, closeForumTopic, reopenForumTopic. Any other method answers 404 "Not Found",
    as the real server does for unknown methods (python-telegram-bot raises ``InvalidToken`` then).
    Each callback query id can be answered once; forum topics exist only once created here.
    """

    def __init__(self, token: str, *, first_name: str = "PST Bot", username: str = "pst_test_bot"):
        if token_rejection(token) is not None:
            raise ValueError(f"the real Bot API would reject the token {token!r}")
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._lock = threading.Lock()
        self._calls: list[TelegramCall] = []
        self._sent: list[tuple[int | str, dict[str, Any]]] = []
        self._failures: dict[str, deque[TelegramApiError]] = defaultdict(deque)
        self._stalled: dict[str, float] = {}
        self._last_message_id: dict[int | str, int] = defaultdict(int)
        self._stored: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}  # file_id -> Document
        self._contents: dict[str, bytes] = {}  # file_id -> bytes, for files that can be fetched
        self._paths: dict[str, str] = {}  # file_id -> file_path, given by the first getFile
        self._topics: dict[int | str, dict[int, dict[str, Any]]] = defaultdict(dict)
        self._answered: set[str] = set()
        self._webhook: dict[str, Any] | None = None
        self._commands: list[dict[str, str]] = []
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda params: self.bot_user,
            "getFile": self._get_file,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "setWebhook": self._set_webhook,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda params: copy.deepcopy(self._commands),
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "createForumTopic": self._create_forum_topic,
            "closeForumTopic": lambda params: self._set_topic_closed(params, closed=True),
            "reopenForumTopic": lambda params: self._set_topic_closed(params, closed=False),
        }
        self._canonical = {name.lower(): name for name in self._handlers}
        app = Flask(__name__)
        app.add_url_rule(
            "/file/bot<token>/<path:file_path>", "file", self._download, methods=["GET"]
        )
        app.add_url_rule(
            "/", "root", self._dispatch, methods=["GET", "POST"], defaults={"path": ""}
        )
        app.add_url_rule("/<path:path>", "any", self._dispatch, methods=["GET", "POST"])
        super().__init__(app)

    # ----------------------------------------------------------------- test-facing API

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status`` in the real shape.

        429 answers ``"Too Many Requests: retry after N"`` with ``parameters.retry_after = N``
        (default 5); other statuses answer ``description`` or a default (e.g. 403 "Forbidden: bot
        was blocked by the user", 500 "Internal Server Error"). ``parameters`` is the
        ResponseParameters object (e.g. ``{"migrate_to_chat_id": -100…}`` with 400 "Bad
        Request: group chat was upgraded to a supergroup chat").
        """
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 4xx/5xx and count >= 1")
        if status == 429:
            retry_after = 5 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or _DEFAULT_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
        if retry_after is not None:
            parameters = {**(parameters or {}), "retry_after": retry_after}
        name = self._canonical.get(method.lower(), method)
        with self._lock:
            for _ in range(count):
                self._failures[name].append(TelegramApiError(status, description, parameters))

    def add_file(
        self, content: bytes, filename: str, mime_type: str = "application/pdf"
    ) -> dict[str, Any]:
        """Register a file as if a user had sent it to the bot, and return its ``Document``
        (file_id, file_unique_id, file_name, mime_type, file_size) to put in a message update;
        ``getFile`` then serves it.

        Raises:
            ValueError: ``content`` is empty (Telegram has no empty files).
        """
        if not content:
            raise ValueError("a Telegram file is never empty")
        with self._lock:
            return copy.deepcopy(self._register(filename, mime_type, content))

    def calls(self, method: str | None = None) -> list[TelegramCall]:
        """Every request received (failed ones too, ``ok=False``), oldest first."""
        name = self._canonical.get(method.lower(), method) if method else None
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if name is None or c.method == name]

    def messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """Params of the successful sendMessage/sendDocument calls to ``chat_id``, in order."""
        key = (
            int(chat_id)
            if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id)
            else chat_id
        )
        with self._lock:
            return [copy.deepcopy(p) for chat, p in self._sent if chat == key]

    def texts(self, chat_id: int | str) -> list[str]:
        """``text`` of the successful sendMessage calls to ``chat_id``, as sent, in order."""
        return [p["text"] for p in self.messages(chat_id) if "text" in p]

    def topics(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Forum topics created in ``chat_id``: thread id → ForumTopic plus ``is_closed``."""
        with self._lock:
            return copy.deepcopy(self._topics.get(chat_id, {}))

    @property
    def webhook(self) -> dict[str, Any] | None:
        """The parameters of the last successful setWebhook, or None when none is set."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    # ----------------------------------------------------------------- HTTP plumbing

    def stall(self, chat_id: int | str, seconds: float) -> None:
        """Answer calls for ``chat_id`` only after ``seconds`` (a hanging connection); other
        chats are answered as usual meanwhile."""
        with self._lock:
            self._stalled[str(chat_id)] = seconds

    def _dispatch(self, path: str) -> Response:
        match = re.fullmatch(r"bot([^/]*)/([^/]+)", path)
        token, method = match.groups() if match else ("", path)
        method = self._canonical.get(method.lower(), method)
        params, read_error = self._read_params()
        with self._lock:
            stall = self._stalled.get(str(params.get("chat_id")))
        if stall:
            time.sleep(stall)
        with self._lock:
            try:
                if match is None:
                    raise TelegramApiError(404, "Not Found")
                if token != self.token:
                    raise token_rejection(token) or TelegramApiError(401, "Unauthorized")
                handler = self._handlers.get(method)
                if handler is None:
                    raise TelegramApiError(404, "Not Found")
                if self._failures[method]:
                    raise self._failures[method].popleft()
                if read_error is not None:
                    raise read_error
                result = handler(params)
            except TelegramApiError as err:
                status, body = err.status, err.body()
            else:
                status, body = 200, {"ok": True, "result": result}
                if isinstance(result, _Described):
                    body = {"ok": True, "result": result.result, "description": result.description}
            payload = json.dumps(body, ensure_ascii=False)
            self._calls.append(
                TelegramCall(
                    method, params, time.time(), status == 200, status, json.loads(payload)
                )
            )
        return Response(payload, status=status, mimetype="application/json")

    def _download(self, token: str, file_path: str) -> Response:
        """``GET /file/bot<token>/<file_path>``: the bytes, or the Bot API's error shape (401 for a
        wrong token and 404 for an unknown path: *approximate*, not checked against the real
        server)."""
        with self._lock:
            file_id = next((f for f, p in self._paths.items() if p == file_path), None)
            if token != self.token:
                error = TelegramApiError(401, "Unauthorized")
            elif file_id is None:
                error = TelegramApiError(404, "Not Found")
            else:
                info = self._files[file_id]
                return Response(self._contents[file_id], mimetype=info["mime_type"])
        return Response(json.dumps(error.body()), status=error.status, mimetype="application/json")

    @staticmethod
    def _read_params() -> tuple[dict[str, Any], TelegramApiError | None]:
        raw: dict[str, Any] = dict(request.args.items())
        error = None
        if request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                raw.update(body)
            else:
                error = _bad("can't parse JSON object")  # approximate
        else:
            raw.update(request.form.items())
            for name, part in request.files.items():
                raw[name] = Upload(
                    filename=part.filename or name,
                    content=part.read(),
                    mime_type=part.mimetype or "application/octet-stream",
                )
        return {name: _decode(name, value) for name, value in raw.items()}, error

    # ----------------------------------------------------------------- helpers

    def _text(self, params: dict[str, Any], field: str, *, caption: bool) -> str | None:
        """The plain text of ``field`` after entity parsing, length-checked."""
        raw = params.get(field)
        if raw is None or raw == "":
            if caption:
                return None
            raise _bad("message text is empty")
        text = raw if isinstance(raw, str) else json.dumps(raw)
        mode = params.get("parse_mode")
        if mode not in (None, ""):
            mode = str(mode).lower()
            if mode == "html":
                text = parse_html(text)
            elif mode not in ("markdown", "markdownv2"):
                raise _bad("unsupported parse_mode")
        text = text.strip()
        if not text:
            if caption:
                return None
            raise _bad("message text is empty")
        if caption and len(text) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        if not caption and len(text) > TEXT_LIMIT:
            raise _bad("message is too long")
        return text

    def _thread(self, chat: int | str, params: dict[str, Any]) -> int | None:
        """``message_thread_id`` checked against the topics of a forum supergroup."""
        thread = params.get("message_thread_id")
        if thread is None or thread == "":
            return None
        if not isinstance(thread, int) or isinstance(thread, bool):
            raise _bad("message thread not found")
        if chat_type(chat) == "supergroup":
            topic = self._topics[chat].get(thread)
            if topic is None:
                raise _bad("message thread not found")
            if topic["is_closed"]:
                raise _bad("TOPIC_CLOSED")
        return thread

    def _new_message(self, chat: int | str, thread: int | None, **content: Any) -> dict[str, Any]:
        self._last_message_id[chat] += 1
        message: dict[str, Any] = {
            "message_id": self._last_message_id[chat],
            "from": self.bot_user,
            "chat": _chat_object(chat),
            "date": int(time.time()),
        }
        message.update({key: value for key, value in content.items() if value is not None})
        if thread is not None:
            message["message_thread_id"] = thread
            if chat_type(chat) == "supergroup":
                message["is_topic_message"] = True
        self._stored[(chat, message["message_id"])] = message
        return message

    def _stored_message(self, params: dict[str, Any]) -> tuple[int | str, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _bad("message to edit not found")  # inline messages are not modelled
        chat = _chat_id(params)
        message_id = params.get("message_id")
        if message_id is None or message_id == "":
            raise _bad("message identifier is not specified")
        message = self._stored.get((chat, message_id)) if isinstance(message_id, int) else None
        if message is None:
            raise _bad("message to edit not found")
        return chat, message

    def _file(self, document: Any, params: dict[str, Any]) -> dict[str, Any]:
        """The Document for an upload, a URL or a file_id this fake issued before."""
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if document is None or document == "":
            raise _bad("there is no document in the request")
        if isinstance(document, Upload):
            if not document.content:
                raise _bad("file must be non-empty")
            if len(document.content) > UPLOAD_LIMIT:
                raise TelegramApiError(413, "Request Entity Too Large")
            return self._register(document.filename, document.mime_type, document.content)
        if isinstance(document, str) and re.match(r"https?://", document, re.IGNORECASE):
            name = urlsplit(document).path.rsplit("/", 1)[-1] or "file"
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return self._register(name, mime, None)
        if isinstance(document, str) and document in self._files:
            return self._files[document]
        raise _bad("wrong file identifier/HTTP URL specified")

    def _register(self, name: str, mime: str, content: bytes | None) -> dict[str, Any]:
        """A new Document; ``content`` None (sent by URL) makes it impossible to fetch."""
        file_id = "BQACAgUAAxkBAAI" + secrets.token_urlsafe(40)
        info = {
            "file_id": file_id,
            "file_unique_id": "AgAD" + secrets.token_urlsafe(9),
            "file_name": name,
            "mime_type": mime,
            "file_size": len(content or b""),
        }
        self._files[file_id] = info
        if content is not None:
            self._contents[file_id] = content
        return info

    # ----------------------------------------------------------------- methods

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if file_id is None or file_id == "":
            raise _bad("file_id not specified")  # approximate
        if file_id not in self._contents:
            raise _bad("invalid file_id")
        info = self._files[file_id]
        if info["file_size"] > DOWNLOAD_LIMIT:
            raise _bad("file is too big")
        if file_id not in self._paths:
            suffix = PurePosixPath(info["file_name"]).suffix.lower()
            self._paths[file_id] = f"documents/file_{len(self._paths)}{suffix}"
        return {
            "file_id": file_id,
            "file_unique_id": info["file_unique_id"],
            "file_size": info["file_size"],
            "file_path": self._paths[file_id],
        }

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = _chat_id(params)
        text = self._text(params, "text", caption=False)
        markup = _reply_markup(params)
        thread = self._thread(chat, params)
        message = self._new_message(chat, thread, text=text, reply_markup=markup)
        self._sent.append((chat, params))
        return message

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = _chat_id(params)
        caption = self._text(params, "caption", caption=True)
        markup = _reply_markup(params)
        thread = self._thread(chat, params)
        document = self._file(params.get("document"), params)
        message = self._new_message(
            chat, thread, document=document, caption=caption, reply_markup=markup
        )
        self._sent.append((chat, params))
        return message

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = _chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._thread(chat, params)
        return True

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        _, message = self._stored_message(params)
        text = self._text(params, "text", caption=False)
        markup = _reply_markup(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise _bad(_NOT_MODIFIED)
        message["text"] = text
        self._set_markup(message, markup)
        return message

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        _, message = self._stored_message(params)
        markup = _reply_markup(params)
        if message.get("reply_markup") == markup:
            raise _bad(_NOT_MODIFIED)
        self._set_markup(message, markup)
        return message

    @staticmethod
    def _set_markup(message: dict[str, Any], markup: dict[str, Any] | None) -> None:
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id or query_id in self._answered:
            raise _bad(_QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > CALLBACK_ANSWER_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")
        self._answered.add(query_id)
        return True

    def _set_webhook(self, params: dict[str, Any]) -> _Described:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme.lower() != "https" or not parts.hostname:
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        try:
            port = parts.port or 443
        except ValueError:
            raise _bad("bad webhook: Wrong port number specified in the URL") from None
        if port not in WEBHOOK_PORTS:
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret not in (None, ""):
            if not isinstance(secret, str) or len(secret) > 256:
                raise _bad("secret token is too long")  # approximate
            if not _SECRET_TOKEN.fullmatch(secret):
                raise _bad("secret token contains unallowed characters")
        webhook = {
            key: params[key]
            for key in ("url", "secret_token", "allowed_updates", "max_connections",
                        "drop_pending_updates", "ip_address")
            if key in params
        }  # fmt: skip
        same = self._webhook is not None and self._webhook.get("url") == url
        self._webhook = webhook
        return _Described(True, "Webhook is already set" if same else "Webhook was set")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        """setMyCommands: "commands", a JSON array of at most 100 BotCommand; each "command"
        1-32 characters of lowercase letters, digits and underscores, each "description"
        1-256 characters. Scope and language_code are accepted and not modelled."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")  # approximate
        if len(commands) > COMMANDS_LIMIT:
            raise _bad("too many commands specified")  # approximate
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand")  # approximate
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")  # approximate
        self._commands = [{"command": c["command"], "description": c["description"]}
                          for c in commands]  # fmt: skip
        return True

    def commands(self) -> list[dict[str, str]]:
        """The commands last registered with setMyCommands."""
        return copy.deepcopy(self._commands)

    def _delete_webhook(self, params: dict[str, Any]) -> _Described:
        existed, self._webhook = self._webhook is not None, None
        return _Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self._webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.get("max_connections", 40)
            if "allowed_updates" in self._webhook:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _forum(self, params: dict[str, Any]) -> int:
        chat = _chat_id(params)
        if chat_type(chat) != "supergroup":
            raise _bad("method is available only for supergroups")
        assert isinstance(chat, int)
        return chat

    def _create_forum_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._forum(params)
        name = params.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad("topic name must be non-empty")  # approximate
        if len(name) > TOPIC_NAME_LIMIT:
            raise _bad("topic name is too long")  # approximate
        color = params.get("icon_color", min(TOPIC_ICON_COLORS))
        if color not in TOPIC_ICON_COLORS or isinstance(color, bool):
            raise _bad("invalid icon_color specified")  # approximate
        self._last_message_id[chat] += 1  # the "topic created" service message
        topic: dict[str, Any] = {
            "message_thread_id": self._last_message_id[chat],
            "name": name,
            "icon_color": color,
        }
        if params.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = str(params["icon_custom_emoji_id"])
        self._topics[chat][topic["message_thread_id"]] = {**topic, "is_closed": False}
        return topic

    def _set_topic_closed(self, params: dict[str, Any], *, closed: bool) -> bool:
        chat = self._forum(params)
        thread = params.get("message_thread_id")
        topic = self._topics[chat].get(thread) if isinstance(thread, int) else None
        if topic is None:
            raise _bad("message thread not found")
        if topic["is_closed"] == closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        topic["is_closed"] = closed
        return True
