"""Email: messages with attachments through an SMTP relay (the office's or the deployment's).

One outbox method, ``email.send``, with the payload ``{"to", "subject", "text", "attachments":
[{"path", "filename"}]}``. The message is built with :class:`email.message.EmailMessage` and sent
with :class:`smtplib.SMTP` (RFC 5321), STARTTLS (RFC 3207) and AUTH when configured.

Errors become :class:`~core.channels.base.SendError`. What decides "temporary" (retried by the
outbox) is the SMTP reply class (RFC 5321 §4.2.1): 4yz is a transient negative completion, 5yz a
permanent one. Everything that goes wrong *before* the message is offered (connection refused,
timeouts, a dropped connection, a refused EHLO/STARTTLS, wrong credentials, no AUTH offered) is a
deployment problem that operators fix, so it is temporary whatever the code: the message itself
was never judged. A 5yz to ``MAIL FROM``, ``RCPT TO`` or ``DATA`` is permanent.
"""

from __future__ import annotations

import mimetypes
import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from core.channels.base import SendError
from core.engine import Reply
from core.texts import Texts

CHANNEL = "email"
METHOD = "email.send"
TICKET_NUMBER = re.compile(r"\b[A-Z]{2}-\d{4}-\d{8}-\d{4}\b")  # core/tickets.py numbers
_FALLBACK_MIME = "application/octet-stream"


def render(
    to: str, lang: str, reply: Reply, texts: Texts, tickets_dir: Path
) -> list[tuple[str, dict[str, Any]]]:
    """The one ``email.send`` row for ``reply`` to address ``to``: a "data ready" notice (it
    names a ticket) gets a short subject with the ticket number, anything else its first line;
    a ticket file (``tiket/<path>`` under ``tickets_dir``) is attached."""
    attachments = []
    if reply.attachment and reply.attachment.key.startswith("tiket/"):
        path = tickets_dir / reply.attachment.key.removeprefix("tiket/")
        attachments.append({"path": str(path), "filename": reply.attachment.filename})
    if number := TICKET_NUMBER.search(reply.text):
        subject = texts.get(lang, "email_subject_ticket", number=number[0])
    else:
        subject = texts.get(lang, "email_subject", first=reply.text.split("\n")[0][:120])
    payload = {"to": to, "subject": subject, "text": reply.text, "attachments": attachments}
    return [(METHOD, payload)]


class Attachment(BaseModel):
    """A file on disk, read when the message is sent, shown to the recipient as ``filename``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    filename: str = Field(min_length=1)


class EmailPayload(BaseModel):
    """The outbox payload of ``email.send``. ``to`` is checked with email-validator (no DNS)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: EmailStr
    subject: str
    text: str
    attachments: list[Attachment] = []

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """A header is one line: line breaks in a subject (e.g. from a visitor's words) would
        otherwise make :class:`EmailMessage` refuse it."""
        return " ".join(value.split())


def mime_type(filename: str) -> tuple[str, str]:
    """``(maintype, subtype)`` for an attachment named ``filename``: ``application/pdf`` for
    ``.pdf``, else :func:`mimetypes.guess_type`, else ``application/octet-stream``."""
    if filename.lower().endswith(".pdf"):
        guessed = "application/pdf"
    else:
        guessed = mimetypes.guess_type(filename)[0] or _FALLBACK_MIME
    maintype, _, subtype = guessed.partition("/")
    return maintype, subtype


def build_message(sender: str, payload: dict[str, Any]) -> EmailMessage:
    """The message for ``payload`` from ``sender``, attachments read from disk now.

    Raises:
        SendError: permanent, when the payload is malformed (missing field, invalid ``to``) or an
            attachment cannot be read: retrying the same row would fail the same way.
    """
    try:
        mail = EmailPayload.model_validate(payload)
    except ValidationError as exc:
        raise SendError(f"malformed email payload: {exc}", temporary=False) from exc
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.text)
    for attachment in mail.attachments:
        try:
            content = attachment.path.read_bytes()
        except OSError as exc:
            raise SendError(f"attachment unreadable: {exc}", temporary=False) from exc
        maintype, subtype = mime_type(attachment.filename)
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _reply_text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return f"{type(exc).__name__}: {exc.smtp_code} {text}"


def _is_permanent(code: int) -> bool:
    return 500 <= code <= 599


def _offer(smtp: smtplib.SMTP, message: EmailMessage) -> None:
    """``MAIL FROM``/``RCPT TO``/``DATA`` for ``message``; the server's answer decides.

    Raises:
        SendError: permanent on a 5yz reply (or the server lacking SMTPUTF8 for a non-ASCII
            address), temporary on a 4yz reply.
    """
    try:
        refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        temporary = not any(_is_permanent(code) for code in codes)
        raise SendError(f"recipient refused: {exc.recipients}", temporary=temporary) from exc
    except smtplib.SMTPResponseException as exc:  # SMTPSenderRefused, SMTPDataError
        raise SendError(_reply_text(exc), temporary=not _is_permanent(exc.smtp_code)) from exc
    except smtplib.SMTPNotSupportedError as exc:  # SMTPUTF8 needed but not offered
        raise SendError(f"SMTPNotSupportedError: {exc}", temporary=False) from exc
    if refused:  # some recipients refused, others accepted: the message did go out
        raise SendError(f"recipient refused: {refused}", temporary=False)


class EmailSender:
    """Sends ``email.send`` outbox rows through an SMTP server, one connection per message.

    ``starttls`` upgrades the connection (certificate checked against the system's CAs) before
    ``username``/``password`` log in; no login when ``username`` is None. ``timeout`` (seconds)
    bounds the connection and every reply.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout: float = 30,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def _greet(self, smtp: smtplib.SMTP) -> None:
        if self.starttls:
            smtp.starttls()
        if self.username is not None:
            smtp.login(self.username, self.password or "")

    def send(self, method: str, payload: dict[str, Any]) -> None:
        """Send the email described by ``payload`` (see :class:`EmailPayload`).

        Raises:
            SendError: permanent for an unknown ``method``, a malformed payload, an unreadable
                attachment or a 5yz answer to the message; temporary for network failures,
                timeouts, 4yz answers and connection set-up failures (TLS, AUTH).
        """
        if method != METHOD:
            raise SendError(f"unknown email method {method!r}", temporary=False)
        message = build_message(self.sender, payload)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                self._greet(smtp)
                _offer(smtp, message)
        except smtplib.SMTPResponseException as exc:  # connect, EHLO, STARTTLS, AUTH
            raise SendError(_reply_text(exc), temporary=True) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, disconnect, TLS
            raise SendError(f"{type(exc).__name__}: {exc}", temporary=True) from exc
