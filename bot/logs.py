"""Logging for every PST Bot process (``pstbot serve``/``worker``/``chat``, gunicorn workers).

Nothing secret or personal may reach a log (UU 27/2022 on personal data; a log file is read
by more people than the database): a filter on the root handlers masks bot tokens (Telegram
puts the token in every Bot API URL), the deployment's other secrets, email addresses and phone
numbers, in messages and tracebacks alike. HTTP clients that log whole requests (httpx logs
every Bot API URL at INFO, twilio logs message bodies and numbers) are kept at WARNING.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("httpx", "httpcore", "twilio.http_client", "telegram", "apscheduler", "urllib3")
PATTERNS = (
    re.compile(r"bot\d+:[A-Za-z0-9_-]{20,}"),  # a Telegram bot token, in URLs and messages
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email addresses
    re.compile(r"(?:whatsapp:)?\+\d{7,15}"),  # E.164 numbers, WhatsApp addresses
    re.compile(r"(?<![\w-])0[1-9]\d{7,12}(?!\d)"),  # Indonesian numbers written with a 0
)
MASK = "[redacted]"


class Redactor(logging.Filter):
    """Masks ``secrets`` and :data:`PATTERNS` in a record's message and traceback."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret and personal detail replaced by ``[redacted]``."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern in PATTERNS:
            text = pattern.sub(MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup(level: str = "INFO", secrets: Iterable[str | None] = ()) -> None:
    """Configure the root logger at ``level`` with the redacting filter on its handlers."""
    logging.basicConfig(level=level, format=FORMAT)
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
