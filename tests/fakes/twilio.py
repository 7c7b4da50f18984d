"""Fake Twilio REST API: the Messages resource, for WhatsApp senders.

Reference: Message resource, "Create a Message resource"
(https://www.twilio.com/docs/messaging/api/message-resource) — ``POST
/2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded, HTTP Basic auth
``AccountSid:AuthToken``, 201 with the Message resource as JSON. Errors answer Twilio's error JSON
``{"code", "message", "more_info", "status"}`` (codes: https://www.twilio.com/docs/api/errors),
which the twilio library raises as ``TwilioRestException`` with ``.status`` and ``.code``.

Caveat: on the real service 63016 (outside the WhatsApp 24-hour session) and some channel errors
(63007) may surface asynchronously, as a ``failed`` status with ``error_code`` on the status
callback, rather than as a synchronous 400; here they are synchronous so the app's handling of the
exception can be tested. A message created with ``StatusCallback`` gets its statuses posted
there afterwards (``sent``, ``delivered``; or ``failed`` with ``ErrorCode`` after
:meth:`FakeTwilio.fail_delivery`), form-encoded and signed with ``X-Twilio-Signature`` as Twilio
does ("Track the Message Status of Outbound Messages"). WhatsApp media is at most 16 MB: a
``MediaUrl`` whose ``Content-Length`` (fetched with HEAD, as Twilio fetches the media) is larger is
refused with 63019 here, where the real service reports it on the status callback.
"""

from __future__ import annotations

import contextlib
import copy
import json
import queue
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

import httpx
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from . import FakeServer, http

API_VERSION = "2010-04-01"
BODY_LIMIT = 1600  # "Body": up to 1,600 characters
MEDIA_LIMIT = 10  # "You can include up to ten media_url parameters per message"
SESSION_WINDOW = timedelta(hours=24)  # WhatsApp customer service window
CALLBACK_DELAY = 0.3  # seconds after creation; the real callbacks come later still
QUICK_REPLY_IN_SESSION = 3  # twilio/quick-reply: "in-session … only three buttons are allowed"
QUICK_REPLY_TITLE = 20  # WhatsApp button title
LIST_ITEMS = 10  # twilio/list-picker: "Maximum: 10 items"
LIST_ITEM_TITLE = 24  # list-picker item: "Maximum length: 24 characters"
WHATSAPP_MEDIA_MAX = 16 * 1024 * 1024  # "WhatsApp … media size limit is 16 MB"

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_MESSAGES_PATH = re.compile(rf"{API_VERSION}/Accounts/([^/]+)/Messages\.json")


@dataclass(frozen=True)
class TwilioCall:
    """One request as received: ``params`` is the form with ``MediaUrl`` as a list; ``response``
    is the JSON answered (the Message resource or the error)."""

    method: str
    path: str
    params: dict[str, Any]
    time: float
    ok: bool
    status: int
    response: dict[str, Any]


class TwilioApiError(Exception):
    """A Twilio error answer."""

    def __init__(self, status: int, code: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
            **self.extra,
        }


def _bad(code: int, message: str) -> TwilioApiError:
    return TwilioApiError(400, code, message)


def _address(value: str) -> tuple[str, str]:
    """Split a channel address ``whatsapp:+62…`` into (channel, number); SMS has channel ""."""
    channel, sep, number = value.rpartition(":")
    return (channel.lower(), number) if sep else ("", value)


class FakeTwilio(FakeServer):
    """Fake Twilio for one account; the app sets ``client.api.base_url = fake.base_url``.

    ``senders`` are the WhatsApp senders of the account, as used in ``From``
    (``"whatsapp:+14155238886"``).
    """

    def __init__(self, account_sid: str, auth_token: str, senders: set[str]):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.senders = set(senders)
        self._lock = threading.Lock()
        self._calls: list[TwilioCall] = []
        self._created: list[dict[str, Any]] = []
        self._failures: list[TwilioApiError] = []
        self._window_enforced = False
        self._last_inbound: dict[str, datetime] = {}
        self._media: dict[str, tuple[bytes, str]] = {}
        self._content: dict[str, dict[str, Any]] = {}
        self._delivery_failures: list[int] = []
        self._undelivered: set[int] = set()  # indexes in _created reported failed
        self._callbacks: queue.Queue[tuple[float, str, dict[str, str]] | None] = queue.Queue()
        self._poster = threading.Thread(target=self._post_callbacks, daemon=True)
        self._poster.start()
        app = Flask(__name__)
        app.add_url_rule(
            "/2010-04-01/Accounts/<sid>/Messages/<message>/Media/<media>",
            "media",
            self._serve_media,
        )
        app.add_url_rule(
            "/", "root", self._dispatch, defaults={"path": ""}, methods=["GET", "POST"]
        )
        app.add_url_rule(
            "/<path:path>", "any", self._dispatch, methods=["GET", "POST", "PUT", "DELETE"]
        )
        super().__init__(app)

    # ----------------------------------------------------------------- test-facing API

    def fail_next(
        self,
        *,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` message creations fail (e.g. ``status=429, code=20429``).

        ``code`` defaults to 20000 + status (20429 "Too Many Requests", 20500 "Internal Server
        Error", 20503 "Service Unavailable"); ``message`` to the HTTP reason phrase.
        """
        if not 400 <= status <= 599 or count < 1:
            raise ValueError("status must be 4xx/5xx and count >= 1")
        code = code or 20000 + status
        message = message or HTTPStatus(status).phrase
        with self._lock:
            self._failures.extend(TwilioApiError(status, code, message) for _ in range(count))

    def add_media(self, content: bytes, content_type: str) -> str:
        """Keep a visitor's media as Twilio does and return its ``MediaUrl0``; fetching it needs
        the account's Basic auth, as on the real API."""
        path = (
            f"/2010-04-01/Accounts/{self.account_sid}/Messages/MM{uuid.uuid4().hex}"
            f"/Media/ME{uuid.uuid4().hex}"
        )
        with self._lock:
            self._media[path] = (content, content_type)
        return f"{self.base_url}{path}"

    def _serve_media(self, sid: str, message: str, media: str) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return Response("Unauthorized", status=401)
        with self._lock:
            found = self._media.get(request.path)
        if found is None:
            return Response("Not Found", status=404)
        return Response(found[0], mimetype=found[1])

    def recover(self) -> None:
        """Drop the failures :meth:`fail_next` queued and not yet used (Twilio is back)."""
        with self._lock:
            self._failures.clear()

    def session_window(self, enabled: bool) -> None:
        """Enforce the WhatsApp 24-hour window: free-form messages (no ContentSid) to a number
        whose last inbound message (see :meth:`visitor_wrote`) is older than 24 h, or who never
        wrote, fail with 63016; template (ContentSid) messages always pass."""
        with self._lock:
            self._window_enforced = enabled

    def visitor_wrote(self, to_number: str, when: datetime | None = None) -> None:
        """Record an inbound message from ``to_number`` (``whatsapp:+62…`` or ``+62…``) at
        ``when`` (timezone-aware; default now)."""
        when = when or datetime.now(UTC)
        if when.tzinfo is None:
            raise ValueError("when must be timezone-aware")
        with self._lock:
            self._last_inbound[_address(to_number)[1]] = when

    def approve(self, content_sid: str, text: str) -> None:
        """Register an approved template (``HX…``) whose ``text`` uses ``{{1}}``, ``{{2}}``…;
        :meth:`shown` fills it with a message's ``ContentVariables``."""
        with self._lock:
            self._content[content_sid] = {"text": text, "actions": [], "session": False}

    def add_content(
        self, content_sid: str, text: str, actions: list[tuple[str, str]], picker: bool = False
    ) -> None:
        """Create in-session interactive content: a twilio/quick-reply (``picker`` False, at
        most 3 buttons of 20 characters) or twilio/list-picker (at most 10 items of 24), each
        action ``(id, title)``. Like free-form text it needs the 24-hour window.

        Raises:
            ValueError: over the limits the Content API enforces.
        """
        most, longest = (
            (LIST_ITEMS, LIST_ITEM_TITLE)
            if picker
            else (
                QUICK_REPLY_IN_SESSION,
                QUICK_REPLY_TITLE,
            )
        )
        if not 1 <= len(actions) <= most or any(len(t) > longest for _, t in actions):
            raise ValueError(f"at most {most} actions with titles of at most {longest}")
        with self._lock:
            self._content[content_sid] = {
                "text": text,
                "actions": list(actions),
                "session": True,
                "picker": picker,
            }

    def interactive(self, to: str) -> dict[str, Any] | None:
        """The interactive content of the newest message to ``to`` (``actions``, ``picker``),
        or None when it is text or a template."""
        with self._lock:
            sent = [p for p in self._created if p.get("To") == to]
            content = self._content.get(sent[-1].get("ContentSid", "")) if sent else None
            return copy.deepcopy(content) if content and content["actions"] else None

    def fail_delivery(self, code: int, count: int = 1) -> None:
        """The next ``count`` created messages are accepted (201), then reported ``failed`` with
        ``ErrorCode`` ``code`` on their status callback (e.g. 63016, 63024)."""
        with self._lock:
            self._delivery_failures.extend([code] * count)

    def shown(self, to: str) -> list[str]:
        """What the WhatsApp user ``to`` reads, in order: each body, or an approved template
        filled with its variables (``[template HX…]`` when not registered); messages reported
        failed (:meth:`fail_delivery`) never arrived."""
        shown = []
        with self._lock:
            created = [
                copy.deepcopy(p)
                for n, p in enumerate(self._created)
                if p.get("To") == to and n not in self._undelivered
            ]
        for params in created:
            sid = params.get("ContentSid")
            if sid is None:
                if params.get("Body"):
                    shown.append(params["Body"])
                continue
            content = self._content.get(sid, {"text": f"[template {sid}]", "actions": []})
            text = content["text"]
            variables = json.loads(params.get("ContentVariables") or "{}")
            for key, value in variables.items():
                text = text.replace("{{" + key + "}}", value)
            buttons = " ".join(f"[{title}]" for _, title in content["actions"])
            shown.append(f"{text}\n{buttons}" if buttons else text)
        return shown

    def calls(self) -> list[TwilioCall]:
        """Every request received (failed ones too, ``ok=False``), oldest first."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Params of the successful creations (``MediaUrl`` a list), optionally only to ``to``."""
        with self._lock:
            return [copy.deepcopy(p) for p in self._created if to is None or p.get("To") == to]

    def bodies(self, to: str) -> list[str]:
        """``Body`` of the successful creations to ``to``, in order (ContentSid ones excluded)."""
        return [p["Body"] for p in self.messages(to) if p.get("Body")]

    # ----------------------------------------------------------------- HTTP plumbing

    def _dispatch(self, path: str) -> Response:
        params: dict[str, Any] = {key: request.form.get(key) for key in request.form}
        if "MediaUrl" in request.form:
            params["MediaUrl"] = request.form.getlist("MediaUrl")
        too_big = self._oversized(params.get("MediaUrl") or [])  # fetched outside the lock
        with self._lock:
            try:
                if too_big:
                    raise _bad(63019, "Media failed to download: larger than 16 MB")
                resource = self._handle(path, params)
            except TwilioApiError as err:
                status, body = err.status, err.body()
            else:
                status, body = 201, resource
                self._created.append(params)
                self._report(params, resource["sid"])
            self._calls.append(
                TwilioCall(
                    request.method, f"/{path}", params, time.time(), status == 201, status, body
                )
            )
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else {}
        return Response(
            json.dumps(body), status=status, mimetype="application/json", headers=headers
        )

    @staticmethod
    def _oversized(urls: list[str]) -> bool:
        """Any media URL whose Content-Length is over WhatsApp's 16 MB."""
        for url in urls:
            try:
                length = int(http.head(url, timeout=10).headers.get("Content-Length", 0))
            except (httpx.HTTPError, ValueError):
                continue  # unreachable media is the real service's asynchronous 63019
            if length > WHATSAPP_MEDIA_MAX:
                return True
        return False

    def _report(self, params: dict[str, Any], sid: str) -> None:
        """Queue the status callbacks of a created message (under the lock)."""
        url = params.get("StatusCallback")
        if not url:
            return
        base = {"MessageSid": sid, "AccountSid": self.account_sid, "To": params["To"]}
        base["From"] = params.get("From") or ""
        if self._delivery_failures:
            code = self._delivery_failures.pop(0)
            self._undelivered.add(len(self._created) - 1)
            steps = [{"MessageStatus": "failed", "ErrorCode": str(code)}]
        else:
            steps = [{"MessageStatus": "sent"}, {"MessageStatus": "delivered"}]
        due = time.monotonic() + CALLBACK_DELAY
        for step in steps:
            self._callbacks.put((due, url, {**base, **step}))

    def _post_callbacks(self) -> None:
        """Post queued status callbacks in order, signed; a bot that is gone is ignored."""
        validator = RequestValidator(self.auth_token)
        while (item := self._callbacks.get()) is not None:
            due, url, form = item
            time.sleep(max(0.0, due - time.monotonic()))
            signature = validator.compute_signature(url, form)
            with contextlib.suppress(httpx.HTTPError):
                http.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)

    def stop(self) -> None:
        """Stop posting callbacks, then serving."""
        self._callbacks.put(None)
        self._poster.join(timeout=5)
        super().stop()

    def _handle(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        auth = request.authorization
        if (
            auth is None
            or auth.type != "basic"
            or (auth.username, auth.password) != (self.account_sid, self.auth_token)
        ):
            raise TwilioApiError(
                401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect."
            )
        match = _MESSAGES_PATH.fullmatch(path)
        if match is None or request.method != "POST":
            raise TwilioApiError(404, 20404, f"The requested resource /{path} was not found")
        if match.group(1) != self.account_sid:
            raise TwilioApiError(
                401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect."
            )
        if self._failures:
            raise self._failures.pop(0)
        self._validate(params)
        return self._resource(params)

    def _validate(self, params: dict[str, Any]) -> None:
        to, from_ = params.get("To"), params.get("From")
        service = params.get("MessagingServiceSid")
        body, media = params.get("Body") or "", params.get("MediaUrl") or []
        content_sid = params.get("ContentSid")
        if not to:
            raise _bad(21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise _bad(21603, "A 'From' phone number is required.")
        if service and not _MESSAGING_SERVICE_SID.fullmatch(service):
            raise _bad(21701, "The Messaging Service Sid is invalid.")
        to_channel, to_number = _address(to)
        if not _E164.fullmatch(to_number) or to_channel not in ("", "whatsapp"):
            raise _bad(21211, f"Invalid 'To' Phone Number: {to}")
        if from_:
            from_channel, from_number = _address(from_)
            if not _E164.fullmatch(from_number) or from_channel not in ("", "whatsapp"):
                raise _bad(
                    21212,
                    f"The 'From' number {from_} is not a valid phone number, shortcode, "
                    "or alphanumeric sender ID.",
                )
            if from_channel != to_channel:
                raise _bad(
                    21910,
                    "Invalid From and To pair. From and To should be of the same channel",
                )
            if to_channel != "whatsapp":
                raise _bad(
                    21211, f"Invalid 'To' Phone Number: {to} (this fake serves WhatsApp only)"
                )
            if from_ not in self.senders:
                raise _bad(63007, "Twilio could not find a Channel with the specified From address")
        if not body and not media and not content_sid:
            raise _bad(21619, "A text message body or media url must be specified.")
        if len(body) > BODY_LIMIT:
            raise _bad(21617, "The concatenated message body exceeds the 1600 character limit.")
        if len(media) > MEDIA_LIMIT:
            raise _bad(21623, "Number of media files exceeds allowed limit.")
        if any(not re.match(r"https?://[^/\s]+", url, re.IGNORECASE) for url in media):
            raise _bad(21620, "Invalid media URL(s).")
        if content_sid is not None and not _CONTENT_SID.fullmatch(content_sid):
            raise _bad(21655, "The ContentSid is Invalid.")
        variables = params.get("ContentVariables")
        if variables is not None:
            try:
                parsed = json.loads(variables)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise _bad(21656, "The ContentVariables Parameter is invalid.")
        in_session = content_sid is None or self._content.get(content_sid, {}).get("session")
        if self._window_enforced and in_session:
            wrote = self._last_inbound.get(to_number)
            if wrote is None or datetime.now(UTC) - wrote > SESSION_WINDOW:
                raise _bad(
                    63016,
                    "Failed to send freeform message because you are outside the allowed window. "
                    "If you are using WhatsApp, please use a Message Template.",
                )

    def _resource(self, params: dict[str, Any]) -> dict[str, Any]:
        """A Message resource as answered on creation (status queued/accepted)."""
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC).replace(microsecond=0))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        service = params.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": params.get("Body") or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": params.get("From"),
            "messaging_service_sid": service,
            "num_media": str(len(params.get("MediaUrl") or [])),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not params.get("From") else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": params["To"],
            "uri": f"{uri}.json",
        }
