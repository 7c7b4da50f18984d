"""A running PST Bot and visitors who talk to it through the real webhooks.

``visitor.says("halo")`` posts a real-shaped webhook; ``visitor.reads()`` waits until the bot's
outbox is delivered and returns what arrived at the fake API for that visitor — what the visitor
would read on the phone.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import ServiceUnavailable

from bot.app import create_app
from bot.service import Service
from bot.settings import load_settings
from storage.models import Outbox
from tests.fakes import FakeTelegram, FakeTwilio, HttpServer, http

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TWILIO_SID = "AC" + "a1" * 16
AUTH_TOKEN = "twilio-auth-token-for-tests"
SHARED_NUMBER = "+14155238886"
_ids = itertools.count(700_000_000)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], Any], seconds: float = 10, what: str = "condition") -> None:
    """Return as soon as ``condition()`` is true; fail after ``seconds`` (a fixed sleep either
    waits too long or, on a busy machine, not long enough)."""
    deadline, pause = time.monotonic() + seconds, 0.002
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(pause)
        pause = min(2 * pause, 0.02)  # most waits end within milliseconds: look soon, then less


class RunningBot:
    """The real Flask app of a :class:`Service`, served over HTTP on 127.0.0.1."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.url = env.get("PUBLIC_BASE_URL", "")
        self.service: Service | None = None
        self._app: Callable | None = None

    def start(self) -> RunningBot:
        """Serve on the port of ``PUBLIC_BASE_URL`` (first: a free one, then kept). The port is
        bound before the service is made (its links carry the URL), so that no other test
        process (pytest-xdist) takes it in between; requests still being answered (a fake's
        status callback) finish before the service closes its connections."""
        port = int(self.env["PUBLIC_BASE_URL"].rsplit(":", 1)[1]) if self.url else 0
        self._server = HttpServer(
            self._dispatch, port, join_requests=True, quiet=False, name="pstbot-server"
        )
        self.url = self.env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{self._server.port}"
        try:
            settings, pst = load_settings(**self.env)
            self.service = Service(settings, pst)
            self.service.start_scheduler()
        except BaseException:
            self._server.stop()
            raise
        self._app = create_app(self.service)
        return self

    def _dispatch(self, environ: dict[str, Any], start_response: Callable) -> Any:
        """The service's app; 503 while there is none (starting, or restarting on the same
        port): a late status callback must not reach a closed service, whose disposed
        database would open a connection that no one closes."""
        app = self._app or ServiceUnavailable()
        return app(environ, start_response)

    def stop(self) -> None:
        self._app = None
        self._server.stop()
        self.service.close()

    def restart(self) -> None:
        """Stop everything and start again on the same database (a deploy, a crash)."""
        self.stop()
        self.start()

    def pending(self, channel: str, chat_id: str) -> int:
        """Outbox rows of a chat not yet sent."""
        with self.service.db.transaction() as session:
            return session.scalar(
                select(func.count()).where(
                    Outbox.channel == channel, Outbox.chat_id == chat_id, Outbox.status == "pending"
                )
            )

    def wait_delivered(self, channel: str, chat_id: str, timeout: float = 15) -> None:
        """Wait until every outbox row of the chat is sent; fail after ``timeout`` seconds."""
        wait_until(
            lambda: not self.pending(channel, chat_id), timeout, f"outbox of {channel} {chat_id}"
        )


def message_update(sender: dict[str, Any], chat: dict[str, Any], text: str, **fields: Any):
    """A real-shaped Telegram ``Update`` carrying a message of ``sender`` in ``chat``: ``text``,
    or with a ``document`` in ``fields`` its caption; a leading ``/command`` is marked as a
    ``bot_command`` entity, as Telegram does. Other ``fields`` go into the message."""
    message = {
        "message_id": next(_ids) % 100_000,
        "from": sender,
        "chat": chat,
        "date": int(time.time()),
        **fields,
    }
    key = "caption" if "document" in fields else "text"
    message[key] = text
    if text.startswith("/"):
        command = {"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}
        message["caption_entities" if key == "caption" else "entities"] = [command]
    return {"update_id": next(_ids), "message": message}


def post_update(bot: RunningBot, update: Any, secret: str | None = None) -> httpx.Response:
    """POST ``update`` to the bot's Telegram webhook as Telegram does, with the webhook secret
    (or ``secret``)."""
    secret = bot.env["TELEGRAM_WEBHOOK_SECRET"] if secret is None else secret
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    return http.post(f"{bot.url}/webhook/telegram", json=update, headers=headers)


class _Visitor:
    channel = ""

    def __init__(self, bot: RunningBot) -> None:
        self.bot = bot
        self.seen = 0
        self.logged = 0
        self.transcript: list[str] = []

    @property
    def chat_id(self) -> str:
        raise NotImplementedError

    def _received(self) -> list[str]:
        raise NotImplementedError

    def reads(self) -> str:
        """Everything the bot sent since the last read, as one text (messages joined by ``---``)."""
        self._log_received()
        new = self._received()[self.seen :]
        self.seen += len(new)
        return "\n---\n".join(new)

    def _log_received(self) -> None:
        self.bot.wait_delivered(self.channel, self.chat_id)
        new = self._received()[self.logged :]
        self.logged += len(new)
        self.transcript += [f"PST Bot: {text}" for text in new]

    def fills_guest_book(
        self, name: str, email: str, phone: str, institution: str, occupation: str, purpose: str
    ) -> None:
        """Agree, answer every guest-book question (``phone`` "1" takes the offered WhatsApp
        number; ``purpose`` only when asked: a data request gave it already) and save."""
        self.taps("Setuju")
        for answer in (name, email, phone, institution):
            self.says(answer)
        self.taps(occupation)
        if purpose in self.offered():
            self.taps(purpose)
        self.taps("Simpan")

    def offered(self) -> dict[str, str]:
        """The options of the newest message, label → what answering with it sends."""
        raise NotImplementedError

    def save_transcript(self, name: str) -> None:
        """Keep the conversation as ``$PSTBOT_TRANSCRIPTS/<name>.txt`` when that is set."""
        self._log_received()
        folder = os.environ.get("PSTBOT_TRANSCRIPTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            Path(folder, f"{name}.txt").write_text("\n\n".join(self.transcript), "utf-8")

    def _said(self, text: str) -> None:
        self._log_received()
        self.transcript.append(f"Pengunjung: {text}")


class TelegramVisitor(_Visitor):
    """A Telegram user writing to the bot in a private chat."""

    channel = "telegram"

    def __init__(self, bot: RunningBot, api: FakeTelegram, user_id: int, first_name: str):
        super().__init__(bot)
        self.api = api
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "id",
        }
        self.secret = bot.env["TELEGRAM_WEBHOOK_SECRET"]

    @property
    def chat_id(self) -> str:
        return str(self.user["id"])

    def _received(self) -> list[str]:
        """Each message's text, then its inline buttons as "[label]" on one line."""
        shown = []
        for message in self.api.messages(self.user["id"]):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            buttons = " ".join(f"[{b['text']}]" for row in rows for b in row)
            text = message.get("text") or message.get("caption", "")
            if "document" in message:
                text = f"[dokumen: {message['document'].filename}]\n{text}"
            shown.append(f"{text}\n{buttons}" if buttons else text)
        return shown

    def post(self, update: Any, secret: str | None = None) -> httpx.Response:
        """POST an update to the webhook as Telegram does."""
        return post_update(self.bot, update, secret)

    def message_update(self, text: str) -> dict[str, Any]:
        """A real-shaped ``Update`` carrying a private text message."""
        chat = {"id": self.user["id"], "first_name": self.user["first_name"], "type": "private"}
        return message_update(self.user, chat, text)

    def says(self, text: str) -> httpx.Response:
        self._said(text)
        response = self.post(self.message_update(text))
        assert response.status_code == 200, response.text
        return response

    def offered(self) -> dict[str, str]:
        return self.buttons()

    def buttons(self) -> dict[str, str]:
        """Label → callback_data of the inline keyboard on the newest message."""
        self.bot.wait_delivered(self.channel, self.chat_id)
        last = self.api.messages(self.user["id"])[-1]
        rows = (last.get("reply_markup") or {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}

    def taps(self, label: str) -> httpx.Response:
        """Tap the button ``label`` of the newest message (a ``callback_query`` update)."""
        data = self.buttons()[label]
        last = self.api.messages(self.user["id"])[-1]
        self._said(f"[{label}]")
        query = {
            "id": str(next(_ids)),
            "from": self.user,
            "chat_instance": "-5512",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": self.user["id"], "type": "private"},
                "text": last["text"],
            },
        }
        response = self.post({"update_id": next(_ids), "callback_query": query})
        assert response.status_code == 200, response.text
        return response


class WhatsAppVisitor(_Visitor):
    """A WhatsApp user writing to one of the deployment's numbers through Twilio."""

    channel = "whatsapp"

    def __init__(self, bot: RunningBot, api: FakeTwilio, phone: str, to: str, name: str):
        super().__init__(bot)
        self.api = api
        self.phone, self.to, self.name = phone, to, name
        self.validator = RequestValidator(bot.env["TWILIO_AUTH_TOKEN"])

    @property
    def chat_id(self) -> str:
        return f"whatsapp:{self.phone}"

    def _received(self) -> list[str]:
        return self.api.shown(self.chat_id)

    def form(self, body: str) -> dict[str, str]:
        """Twilio's webhook parameters for an incoming WhatsApp text."""
        sid = f"SM{next(_ids):032x}"
        return {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": self.name,
            "MessageType": "text",
            "SmsSid": sid,
            "WaId": self.phone.lstrip("+"),
            "SmsStatus": "received",
            "Body": body,
            "To": f"whatsapp:{self.to}",
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": self.bot.env["TWILIO_ACCOUNT_SID"],
            "From": self.chat_id,
            "ApiVersion": "2010-04-01",
        }

    def post(self, form: dict[str, str], signature: str | None = None) -> httpx.Response:
        """POST the form, signed as Twilio signs it unless ``signature`` is given."""
        url = f"{self.bot.url}/webhook/whatsapp"
        if signature is None:
            signature = self.validator.compute_signature(url, form)
        return http.post(url, data=form, headers={"X-Twilio-Signature": signature})

    def says(self, text: str, media: tuple[str, str] | None = None) -> httpx.Response:
        """Send ``text``, optionally with ``media`` = (MediaUrl0, content type)."""
        self._said(text if media is None else f"{text} [media]")
        form = self.form(text)
        if media:
            form.update(NumMedia="1", MediaUrl0=media[0], MediaContentType0=media[1])
        self.api.visitor_wrote(self.chat_id)  # Twilio knows of the message before the bot
        response = self.post(form)
        assert response.status_code == 200, response.text
        assert "<Response/>" in response.text
        return response

    def offered(self) -> dict[str, str]:
        return self.options()

    def options(self) -> dict[str, str]:
        """Label → number of the numbered list in the newest message."""
        self.bot.wait_delivered(self.channel, self.chat_id)
        last = self._received()[-1]
        return {m[2]: m[1] for m in re.finditer(r"^(\d+)\. (.+)$", last, re.MULTILINE)}

    def taps(self, label: str) -> httpx.Response:
        """Tap the button or list item ``label`` of the newest message when it has them (Twilio
        posts ``ButtonPayload``/``ListId`` and the title as ``Body``); else answer with the
        number of option ``label``, as a WhatsApp visitor does."""
        self.bot.wait_delivered(self.channel, self.chat_id)
        content = self.api.interactive(self.chat_id)
        if content is None:
            return self.says(self.options()[label])
        key = dict((title, key) for key, title in content["actions"])[label]
        self._said(f"[{label}]")
        form = self.form(label)
        form.update({"ListId": key, "ListTitle": label} if content["picker"] else {})
        form.update({} if content["picker"] else {"ButtonPayload": key, "ButtonText": label})
        self.api.visitor_wrote(self.chat_id)
        response = self.post(form)
        assert response.status_code == 200, response.text
        return response


class StaffMember:
    """Someone writing commands in an office's staff group (a forum supergroup)."""

    def __init__(self, bot: RunningBot, api: FakeTelegram, chat_id: int, user_id: int, name: str):
        self.bot, self.api, self.chat_id = bot, api, chat_id
        self.user = {"id": user_id, "is_bot": False, "first_name": name}
        self.seen = 0

    def says(
        self, text: str, document: dict | None = None, topic: int | None = None
    ) -> httpx.Response:
        """Post a message (a command, or an answer inside forum topic ``topic``), optionally
        with a document (the text then is its caption)."""
        chat = {"id": self.chat_id, "title": "PST staff", "type": "supergroup", "is_forum": True}
        fields: dict[str, Any] = {"document": document} if document else {}
        if topic is not None:
            fields.update(message_thread_id=topic, is_topic_message=True)
        response = post_update(self.bot, message_update(self.user, chat, text, **fields))
        assert response.status_code == 200, response.text
        return response

    def reads(self) -> str:
        """What the bot posted in the group since the last read."""
        self.bot.wait_delivered("telegram", str(self.chat_id))
        texts = self.api.texts(self.chat_id)
        new, self.seen = texts[self.seen :], len(texts)
        return "\n---\n".join(new)
