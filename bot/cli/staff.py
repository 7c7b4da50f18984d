"""``pstbot staff add/remove/list``: the staff desk's accounts (sign-in at ``/desk``)."""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from bot.cli import common
from staff.desk.auth import MIN_PASSWORD
from storage.db import Database, migrate
from storage.models import StaffAccount


@click.group()
def staff() -> None:
    """Manage the staff desk's accounts (sign-in at /desk)."""


def _db():
    settings, pst = common.load()
    db = Database(settings.database_url)
    migrate(db.engine)
    return db, pst


@staff.command("add")
@click.argument("name")
@click.option("--office", "code", help="BPS domain code; leave out for an admin (all offices)")
@click.password_option(help=f"at least {MIN_PASSWORD} characters (asked when left out)")
def staff_add(name: str, code: str | None, password: str) -> None:
    """Create the desk account NAME for an office (or an admin) with a password."""
    db, pst = _db()
    try:
        if code is not None and all(o.code != code for o in pst.offices):
            known = ", ".join(o.code for o in pst.offices)
            raise click.BadParameter(f"unknown office {code}; config.yaml has {known}")
        if len(password) < MIN_PASSWORD:
            raise click.BadParameter(f"the password needs at least {MIN_PASSWORD} characters")
        with db.transaction() as session_:
            if session_.scalars(select(StaffAccount).where(StaffAccount.name == name)).first():
                raise click.BadParameter(f"an account {name!r} exists already")
            session_.add(
                StaffAccount(
                    name=name, office_code=code, password_hash=generate_password_hash(password)
                )
            )
    finally:
        db.dispose()
    click.echo(f"account {name} added ({code or 'admin: all offices'})")


@staff.command("remove")
@click.argument("name")
def staff_remove(name: str) -> None:
    """Delete the desk account NAME (signed-in sessions end at their next request)."""
    db, _ = _db()
    try:
        with db.transaction() as session_:
            account = session_.scalars(
                select(StaffAccount).where(StaffAccount.name == name)
            ).first()
            if account is None:
                raise click.ClickException(f"no account {name!r}")
            session_.delete(account)
    finally:
        db.dispose()
    click.echo(f"account {name} removed")


@staff.command("list")
def staff_list() -> None:
    """List the desk accounts: name, office, created (UTC)."""
    db, _ = _db()
    try:
        with db.transaction() as session_:
            accounts = session_.scalars(select(StaffAccount).order_by(StaffAccount.name)).all()
    finally:
        db.dispose()
    for a in accounts:
        created = a.created_at.replace(tzinfo=dt.UTC).isoformat(timespec="minutes")
        click.echo(f"{a.name}\t{a.office_code or 'admin'}\t{created}")
