"""``pstbot ikm``: an office's satisfaction index (IKM) over a period, printed and as CSV."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from bot.settings import load_settings
from office.config import ConfigError
from staff.ikm import compute, load_answers, report, write_csv
from storage.db import Database, migrate


@click.command()
@click.option("--office", "code", required=True, help="BPS domain code, e.g. 6106 (Ketapang)")
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="first day, YYYY-MM-DD (default: the first day of --to's month)",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    help="last day, included, YYYY-MM-DD (default: today in the office's time zone)",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="also write the table to this CSV file",
)
def ikm(
    code: str, start: dt.datetime | None, end: dt.datetime | None, csv_path: Path | None
) -> None:
    """Print the office's satisfaction index (IKM, PermenPANRB 14/2017) over a period of its
    local dates (default: this month so far) from the ratings in DATABASE_URL."""
    try:
        settings, pst = load_settings()
        office = pst.office(code)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
    except KeyError:
        known = ", ".join(f"{o.code} ({o.nama})" for o in pst.offices)
        click.echo(f"unknown office {code}; config.yaml has {known}", err=True)
        sys.exit(2)
    last = end.date() if end else dt.datetime.now(office.tz).date()
    first = start.date() if start else last.replace(day=1)
    if first > last:
        raise click.BadParameter(f"{first} is after --to {last}", param_hint="--from")
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
        result = compute(load_answers(db, office.code, first, last, office.tz))
    finally:
        db.dispose()
    click.echo("\n".join(report(result, office, first, last)))
    if csv_path:
        try:
            write_csv(result, csv_path)
        except OSError as exc:
            click.echo(f"error: cannot write {csv_path}: {exc}", err=True)
            sys.exit(1)
        click.echo(f"CSV: {csv_path}")
