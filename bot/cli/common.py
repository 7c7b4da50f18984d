"""What every ``pstbot`` command needs: settings, logging, the service — or exit 2 saying why."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

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
    from bot.service import Service

    return _or_exit(lambda: Service(settings, pst, **kwargs))


def prepare(settings: Settings) -> None:
    """Prepare the database (:func:`bot.service.prepare`), or exit 2 naming why it cannot be."""
    from bot.service import prepare as prepare_database

    _or_exit(lambda: prepare_database(settings))


def _or_exit(start: Callable[[], Any]) -> Any:
    from bot.service import StartupError

    try:
        return start()
    except StartupError as exc:
        click.echo(f"start-up error: {exc}", err=True)
        sys.exit(2)
