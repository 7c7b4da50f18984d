"""What every ``pstbot`` command needs: settings, logging, the service — or exit 2 saying why."""

from __future__ import annotations

import sys

import click

from bot import logs
from bot.settings import Settings, load_settings
from office.config import ConfigError, PstConfig


def load(**overrides: object) -> tuple[Settings, PstConfig]:
    """Settings and config, or exit 2 naming the key that is wrong."""
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


def start(level: str) -> tuple[Settings, PstConfig]:
    """Settings and config of a long-running command, with its logging set up."""
    logs.setup(level)
    settings, pst = load()
    logs.setup(level, settings.secrets)
    return settings, pst


def service(settings: Settings, pst: PstConfig, **kwargs: object):
    """The running service, or exit 2 naming why the database cannot be used."""
    from bot.service import Service, StartupError

    try:
        return Service(settings, pst, **kwargs)
    except StartupError as exc:
        click.echo(f"start-up error: {exc}", err=True)
        sys.exit(2)
