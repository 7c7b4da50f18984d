"""WhatsApp through Twilio: the signed webhook (``POST /webhook/whatsapp``), rendering, sender.

Rules from Twilio's docs: the webhook is form-encoded and signed in ``X-Twilio-Signature``
(HMAC-SHA1 over the full URL plus the sorted POST parameters, checked with twilio's
``RequestValidator``); Twilio waits at most 15 s for the answer, an empty TwiML ``<Response/>``;
a message body is at most 1600 characters; WhatsApp media at most 16 MB (a bigger file goes as
its signed download link). Each message asks for status callbacks
(``POST /webhook/whatsapp/status``, signed the same way). WhatsApp has no buttons here: options
are a numbered list (``core.channels.base.numbered``), or — when ``whatsapp_choices`` in
config.yaml names a Content SID for that option set — a quick-reply or list-picker message, whose
tap comes back as ``ButtonPayload``/``ListId`` (the option's key).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from collections.abc import Callable
from typing import Any

import requests
from flask import Blueprint, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core.channels.base import (
    NAME_MAX,
    TEXT_MAX,
    Malformed,
    SendError,
    attachment_error,
    checked_id,
    clip,
    numbered,
    split_text,
    webhook_body,
)
from core.downloads import NotReady
from core.engine import Inbound, Reply
from core.texts import Texts
from office.config import PstConfig

logger = logging.getLogger(__name__)
CHANNEL = "whatsapp"
# Texts are split well before Twilio's 1600-character limit: a message of more than about 1000
# characters fills several phone screens (a standard's read-out reached 1458).
READABLE_MAX = 1000
BODY_MAX = 1600
CONTENT_BODY_MAX = 1024  # Twilio quick-reply and list-picker "body"
MEDIA_MAX = 16 * 2**20  # bytes; Twilio: WhatsApp media messages up to 16 MB
WINDOW_CLOSED = 63016  # Twilio: free-form message outside the 24-hour window
PREFIX = "whatsapp:"
E164_DIGITS = 15  # ITU-T E.164: at most 15 digits
WHATSAPP_ADDRESS = re.compile(r"whatsapp:\+[1-9][0-9]{6,14}")
STATUS_PATH = "/webhook/whatsapp/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def parse_form(form: Any, pst: PstConfig) -> Inbound:
    """Turn Twilio's webhook parameters into an :class:`Inbound`.

    A message to an office's own WhatsApp number (``To``) is served by that office. The body is
    cut to 4096 characters and the profile name to 200.

    Raises:
        Malformed: ``From``/``To`` missing or not a WhatsApp number (``whatsapp:+`` and up to
            15 digits, E.164), ``MessageSid`` not a Twilio SID (letters and digits).
    """
    sender, to = _address(form.get("From", ""), "From"), _address(form.get("To", ""), "To")
    sid = checked_id(form.get("MessageSid", ""), "MessageSid")
    if not sid.isalnum():
        raise Malformed("MessageSid is not a Twilio SID")  # it also names stored files
    phone = sender.removeprefix(PREFIX)
    office = pst.office_by_whatsapp(to.removeprefix(PREFIX))
    media = form.get("MediaUrl0") if form.get("NumMedia", "0") != "0" else None
    kind = form.get("MediaContentType0", "")
    wa_id = form.get("WaId", "")
    return Inbound(
        channel=CHANNEL,
        user_id=phone,
        chat_id=sender,
        message_id=sid,
        text=clip(form.get("Body", ""), TEXT_MAX),
        payload=clip(form.get("ButtonPayload") or form.get("ListId"), 256) or None,
        display_name=clip(form.get("ProfileName"), NAME_MAX) or None,
        phone=f"+{wa_id}" if wa_id.isdigit() and len(wa_id) <= E164_DIGITS else phone,
        office_code=office.code if office else None,
        media_url=clip(media, 2048),
        file_name=f"media-{sid}{mimetypes.guess_extension(kind) or ''}" if media else None,
        reply_from=to,
        raw=form.to_dict(),
    )


def _address(value: str, what: str) -> str:
    if not WHATSAPP_ADDRESS.fullmatch(value):
        raise Malformed(f"{what} is not a WhatsApp address (whatsapp:+…)")
    return value


def render(
    chat_id: str,
    reply_from: str | None,
    lang: str,
    reply: Reply,
    texts: Texts,
    choices: dict[str, str] | None = None,
):
    """``messages.create`` calls for ``reply``: options as buttons or a list when ``choices``
    (``whatsapp_choices``) has content for them and the text fits its 1,024-character body
    (``in_session``: it needs the 24-hour window like free-form text); else the text with
    options numbered, long texts split at paragraph ends into pieces of at most
    :data:`READABLE_MAX` characters (Twilio allows 1600); a file goes with the last piece as
    ``media_download`` (a signed link is made when sending)."""
    keys = ",".join(option.key for option in reply.options)
    sid = (choices or {}).get(f"{lang}:{keys}")
    if sid and not reply.attachment and len(reply.text) <= CONTENT_BODY_MAX:
        payload = {
            "from_": reply_from,
            "to": chat_id,
            "content_sid": sid,
            "content_variables": json.dumps({"1": reply.text}),
            "in_session": True,
        }
        return [("messages.create", payload)]
    pieces = split_text(numbered(reply, texts, lang), READABLE_MAX) or [""]  # a file alone
    calls = [
        (
            "messages.create",
            {"from_": reply_from, "to": chat_id, "body": piece}
            if piece
            else {"from_": reply_from, "to": chat_id},
        )
        for piece in pieces
    ]
    if reply.attachment:
        # WhatsApp takes no JSON media: a visitor's data export goes as a link in the text.
        kind = "link_download" if reply.attachment.key.startswith("ekspor/") else "media_download"
        calls[-1][1][kind] = [reply.attachment.key, reply.attachment.filename]
        if kind == "media_download":
            calls[-1][1]["media_too_big"] = texts.get(lang, "file_as_link")
    return calls


def blueprint(
    receive: Callable[[Inbound], None],
    pst: PstConfig,
    auth_token: str,
    public_base_url: str | None,
    on_status: Callable[[str, str, str | None], bool] | None = None,
) -> Blueprint:
    """The webhooks: 403 on a bad signature, else empty TwiML (200) — also for parameters that
    can never be read (logged); 5xx only when ``receive`` could not even keep the message.
    ``on_status(message_sid, status, error_code)`` gets Twilio's status callbacks."""
    bp = Blueprint("whatsapp", __name__)
    validator = RequestValidator(auth_token)

    def refused() -> Response | None:
        """The answer to a request that is unreadable or not signed by Twilio, else None."""
        try:
            webhook_body(request)
        except Malformed as exc:
            logger.warning("whatsapp webhook ignored: %s", exc)
            return Response(EMPTY_TWIML, mimetype="text/xml")
        url = request.url
        if public_base_url:
            url = public_base_url + request.full_path.rstrip("?")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            logger.warning("whatsapp webhook refused: bad signature for %s", request.path)
            return Response("invalid signature", status=403)
        return None

    @bp.post("/webhook/whatsapp")
    def webhook():
        if (answer := refused()) is not None:
            return answer
        try:
            inbound = parse_form(request.form, pst)
        except Malformed as exc:
            # Signed by Twilio yet unreadable: acknowledged (never readable), logged.
            logger.warning("whatsapp webhook ignored: %s", exc)
            return Response(EMPTY_TWIML, mimetype="text/xml")
        receive(inbound)
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @bp.post(STATUS_PATH)
    def status():
        if (answer := refused()) is not None:
            return answer
        sid, state = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
        error = request.form.get("ErrorCode") or None
        known = on_status and sid.isalnum() and on_status(sid, state.lower(), error)
        if not known:
            logger.info("status %r for an unknown message ignored", state[:20])
        return Response(EMPTY_TWIML, mimetype="text/xml")

    return bp


class TwilioSender:
    """Sends through the Twilio REST API with twilio's :class:`~twilio.rest.Client`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_url: str,
        media_url: Callable[[str, str], str] | None = None,
        media_size: Callable[[str], int] | None = None,
        status_callback: str | None = None,
    ) -> None:
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=30))
        self.client.api.base_url = api_url
        self._media_url, self._media_size = media_url, media_size
        self._status_callback = status_callback

    def download(self, url: str) -> bytes:
        """The bytes of a visitor's media (``MediaUrl0``), fetched with the account's credentials
        as Twilio requires for media URLs.

        Raises:
            requests.RequestException: unreachable, or an HTTP error status.
        """
        response = requests.get(url, auth=(self.client.username, self.client.password), timeout=60)
        response.raise_for_status()
        return response.content

    def send(self, method: str, payload: dict[str, Any]) -> str:
        """Create a message and return its MessageSid; raises :class:`SendError` (429/5xx/
        network errors: temporary; 63016: ``window_closed``).

        ``media_download`` in the payload becomes ``media_url``: the signed, expiring link of the
        watermarked file, which Twilio fetches — or, for a file over 16 MB, that link in the
        text (``media_too_big``, with ``{name}``, ``{size}`` in MB and ``{link}``);
        ``link_download`` becomes such a link at the end of the text."""
        kwargs = dict(payload)
        kwargs.pop("in_session", None)
        note = kwargs.pop("media_too_big", "{link}")
        if "media_download" in kwargs:
            key, filename = kwargs.pop("media_download")
            link = self._link(key, filename)
            size = self._media_size(key) if self._media_size else 0
            if size > MEDIA_MAX:
                note = note.format(name=filename, size=f"{size / 2**20:.0f}", link=link)
                kwargs["body"] = "\n\n".join(filter(None, (kwargs.get("body"), note)))[:BODY_MAX]
            else:
                kwargs["media_url"] = [link]
        if "link_download" in kwargs:
            link = self._link(*kwargs.pop("link_download"))
            kwargs["body"] = f"{kwargs.get('body', '')}\n{link}".strip()
        if self._status_callback:
            kwargs["status_callback"] = self._status_callback
        try:
            return self.client.messages.create(**kwargs).sid
        except TwilioRestException as exc:
            raise _send_error(exc) from exc
        except requests.RequestException as exc:
            raise SendError(f"twilio unreachable: {type(exc).__name__}", temporary=True) from exc

    def _link(self, key: str, filename: str) -> str:
        try:
            return self._media_url(key, filename)
        except (NotReady, LookupError) as exc:
            raise attachment_error(exc) from exc


def _send_error(exc: TwilioRestException) -> SendError:
    """429 and 5xx are temporary; 401/403 mean the credentials are refused (the operator must
    act: permanent, ``alert``); 63016 means WhatsApp's window is closed (``window_closed``);
    other 4xx are final for that message."""
    message = f"twilio {exc.status} code {exc.code}"  # exc.msg may quote the visitor's number
    if exc.status in (401, 403):
        return SendError(message, temporary=False, alert=True)
    if exc.code == WINDOW_CLOSED:
        return SendError(message, temporary=False, window_closed=True)
    return SendError(message, temporary=exc.status == 429 or exc.status >= 500)
