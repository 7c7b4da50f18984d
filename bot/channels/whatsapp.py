"""WhatsApp through Twilio: the signed webhook (``POST /webhook/whatsapp``), rendering, sender.

Rules from Twilio's docs: the webhook is form-encoded and signed in ``X-Twilio-Signature``
(HMAC-SHA1 over the full URL plus the sorted POST parameters, checked with twilio's
``RequestValidator``); Twilio waits at most 15 s for the answer, an empty TwiML ``<Response/>``;
a message body is at most 1600 characters. WhatsApp has no buttons here: options are a
numbered list (``bot.channels.base.numbered``).
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Callable
from typing import Any

import requests
from flask import Blueprint, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import SendError, numbered, split_text
from bot.config import PstConfig
from bot.engine import Inbound, Reply
from bot.texts import Texts

logger = logging.getLogger(__name__)
CHANNEL = "whatsapp"
# Texts are split well before Twilio's 1600-character limit: a message of more than about 1000
# characters fills several phone screens (a standard's read-out reached 1458).
READABLE_MAX = 1000
PREFIX = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def parse_form(form: Any, pst: PstConfig) -> Inbound:
    """Turn Twilio's webhook parameters into an :class:`Inbound`.

    A message to an office's own WhatsApp number (``To``) is served by that office.

    Raises:
        ValueError: ``From``, ``To`` or ``MessageSid`` is missing or not a WhatsApp address.
    """
    sender, to, sid = form.get("From", ""), form.get("To", ""), form.get("MessageSid", "")
    if not (sender.startswith(PREFIX) and to.startswith(PREFIX) and sid):
        raise ValueError("From, To (whatsapp:+…) and MessageSid are required")
    phone = sender.removeprefix(PREFIX)
    office = pst.office_by_whatsapp(to.removeprefix(PREFIX))
    media = form.get("MediaUrl0") if form.get("NumMedia", "0") != "0" else None
    kind = form.get("MediaContentType0", "")
    return Inbound(
        channel=CHANNEL,
        user_id=phone,
        chat_id=sender,
        message_id=sid,
        text=form.get("Body", ""),
        payload=form.get("ButtonPayload") or None,
        display_name=form.get("ProfileName") or None,
        phone=f"+{form['WaId']}" if form.get("WaId", "").isdigit() else phone,
        office_code=office.code if office else None,
        media_url=media,
        file_name=f"media-{sid}{mimetypes.guess_extension(kind) or ''}" if media else None,
        reply_from=to,
        raw=form.to_dict(),
    )


def render(chat_id: str, reply_from: str | None, lang: str, reply: Reply, texts: Texts):
    """``messages.create`` calls for ``reply``: an approved template (``content_sid`` and
    ``content_variables``, for outside the 24-hour window) when the reply carries one; else the
    text with options numbered, long texts split at paragraph ends into pieces of at most
    :data:`READABLE_MAX` characters (Twilio allows 1600); a
    file goes with the last piece as ``media_download`` (a signed link is made when sending)."""
    if reply.template:
        sid, variables = reply.template
        payload = {
            "from_": reply_from,
            "to": chat_id,
            "content_sid": sid,
            "content_variables": json.dumps(variables),
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
        calls[-1][1]["media_download"] = [reply.attachment.key, reply.attachment.filename]
    return calls


def blueprint(
    receive: Callable[[Inbound], None], pst: PstConfig, auth_token: str, public_base_url: str | None
) -> Blueprint:
    """The webhook: 403 on a bad signature, 400 on malformed parameters, else empty TwiML."""
    bp = Blueprint("whatsapp", __name__)
    validator = RequestValidator(auth_token)

    @bp.post("/webhook/whatsapp")
    def webhook():
        url = request.url
        if public_base_url:
            url = public_base_url + request.full_path.rstrip("?")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            logger.warning("whatsapp webhook refused: bad signature for %s", url)
            return Response("invalid signature", status=403)
        try:
            inbound = parse_form(request.form, pst)
        except ValueError as exc:
            logger.warning("whatsapp webhook refused: %s", exc)
            return Response(str(exc), status=400)
        receive(inbound)
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
    ) -> None:
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=30))
        self.client.api.base_url = api_url
        self._media_url = media_url

    def download(self, url: str) -> bytes:
        """The bytes of a visitor's media (``MediaUrl0``), fetched with the account's credentials
        as Twilio requires for media URLs.

        Raises:
            requests.RequestException: unreachable, or an HTTP error status.
        """
        response = requests.get(url, auth=(self.client.username, self.client.password), timeout=60)
        response.raise_for_status()
        return response.content

    def send(self, method: str, payload: dict[str, Any]) -> None:
        """Create a message; raises :class:`SendError` (429/5xx/network errors: temporary).

        ``media_download`` in the payload becomes ``media_url``: the signed, expiring link of the
        watermarked file, which Twilio fetches (at most 10 media per message)."""
        kwargs = dict(payload)
        if "media_download" in kwargs:
            kwargs["media_url"] = [self._media_url(*kwargs.pop("media_download"))]
        try:
            self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            # 401: credentials being fixed; 429: rate limit; 5xx: Twilio trouble. Others are final.
            temporary = exc.status in (401, 429) or exc.status >= 500
            raise SendError(
                f"twilio {exc.status} code {exc.code}: {exc.msg}", temporary=temporary
            ) from exc
        except requests.RequestException as exc:
            raise SendError(f"twilio unreachable: {type(exc).__name__}", temporary=True) from exc
