"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the email channel's tests."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session


class Recorder:
    """aiosmtpd handler that keeps every accepted message, or answers RCPT/DATA with a reply
    set by the test (e.g. ``"451 4.3.0 try later"``)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """The accepted messages, parsed."""
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(e.original_content or b"") for e in self.envelopes]
