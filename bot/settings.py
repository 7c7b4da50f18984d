"""Deployment settings: secrets and addresses from environment variables only.

Office data lives in ``config.yaml`` (:mod:`office.config`); nothing secret is ever read from it.
"""

from __future__ import annotations

from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from office.config import ConfigError, PstConfig, load_config

DEFAULT_DB = "sqlite:///var/pstbot.sqlite3"


class Settings(BaseSettings):
    """Environment of one deployment.

    Telegram is on when ``TELEGRAM_BOT_TOKEN`` is set and then needs ``TELEGRAM_WEBHOOK_SECRET``
    (the ``secret_token`` of setWebhook: 1–256 of ``A-Z a-z 0-9 _ -``, Bot API "setWebhook").
    WhatsApp is on when ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` are set, and then needs
    ``PSTBOT_SECRET_KEY`` (signs file links) and ``PUBLIC_BASE_URL`` (where Twilio fetches them).
    Email is on when ``SMTP_HOST`` is set, and then needs ``SMTP_FROM`` (an address, checked with
    email-validator without DNS); ``SMTP_USERNAME`` and ``SMTP_PASSWORD`` go together (no login
    without them); ``SMTP_STARTTLS`` (default true) upgrades port 587 connections (RFC 3207).
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    config_path: Path = Field(Path("config.yaml"), alias="PSTBOT_CONFIG")
    data_dir: Path = Field(Path("var"), alias="PSTBOT_DATA_DIR")
    secret_key: str | None = Field(None, alias="PSTBOT_SECRET_KEY", min_length=16)
    database_url: str = Field(DEFAULT_DB, alias="DATABASE_URL")
    public_base_url: str | None = Field(None, alias="PUBLIC_BASE_URL")

    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str | None = Field(
        None, alias="TELEGRAM_WEBHOOK_SECRET", pattern=r"^[A-Za-z0-9_-]{1,256}$"
    )
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")

    twilio_account_sid: str | None = Field(None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, alias="TWILIO_AUTH_TOKEN")
    twilio_api_url: str = Field("https://api.twilio.com", alias="TWILIO_API_URL")
    twilio_whatsapp_number: str | None = Field(None, alias="TWILIO_WHATSAPP_NUMBER")

    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT", gt=0, lt=65536)
    smtp_from: str | None = Field(None, alias="SMTP_FROM")
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME")
    smtp_password: str | None = Field(None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(True, alias="SMTP_STARTTLS")

    desk_session_hours: float = Field(8.0, alias="PSTBOT_DESK_SESSION_HOURS", gt=0)

    outbox_retry_seconds: float = Field(10.0, alias="PSTBOT_OUTBOX_RETRY_SECONDS", gt=0)
    outbox_backoff_seconds: float = Field(5.0, alias="PSTBOT_OUTBOX_BACKOFF_SECONDS", gt=0)

    @field_validator("telegram_api_url", "twilio_api_url", "public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("smtp_from")
    @classmethod
    def _email_address(cls, value: str | None) -> str | None:
        if not value:
            return value
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"not an email address: {exc}") from exc

    @model_validator(mode="after")
    def _channel_pairs(self) -> Settings:
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set")
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together")
        if self.twilio_account_sid and not (self.secret_key and self.public_base_url):
            raise ValueError(
                "PSTBOT_SECRET_KEY and PUBLIC_BASE_URL are required with WhatsApp: files are "
                "sent as signed links that Twilio fetches"
            )
        if self.smtp_host and not self.smtp_from:
            raise ValueError("SMTP_FROM is required when SMTP_HOST is set")
        if bool(self.smtp_username) != bool(self.smtp_password):
            raise ValueError("SMTP_USERNAME and SMTP_PASSWORD must be set together")
        return self

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """The values that must never appear in a log."""
        return (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.twilio_auth_token,
            self.secret_key,
            self.smtp_password,
        )

    @property
    def telegram_enabled(self) -> bool:
        """True when the Telegram channel is configured."""
        return bool(self.telegram_bot_token)

    @property
    def whatsapp_enabled(self) -> bool:
        """True when the WhatsApp (Twilio) channel is configured."""
        return bool(self.twilio_account_sid)

    @property
    def email_enabled(self) -> bool:
        """True when email (SMTP) is configured."""
        return bool(self.smtp_host)


def load_settings(**overrides: object) -> tuple[Settings, PstConfig]:
    """Read the environment (``overrides`` win, by alias) and ``config.yaml``.

    Raises:
        ConfigError: a variable or the config file is invalid; the message names it.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "environment"
        raise ConfigError(f"environment: {name}: {err['msg']}") from exc
    return settings, load_config(settings.config_path)
