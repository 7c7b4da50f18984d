"""``pstbot nlu``: what the bot understands of a message, and the messages it did not understand.

``pstbot nlu TEXT [--json]`` classifies TEXT; without TEXT it reads one message a line from
standard input. ``pstbot nlu unknown [--office CODE] [--since YYYY-MM-DD]`` lists stored misses.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from bot.cli import common
from nlu.classifier import understand


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("words", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per message")
@click.option("--office", help="with `unknown`: only this office (4-digit code)")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="with `unknown`: from this day")
def nlu(words: tuple[str, ...], as_json: bool, office: str | None, since: dt.datetime | None):
    """Show the intent, confidence and slots of TEXT (or of each line of standard input).

    `pstbot nlu unknown [--office CODE] [--since YYYY-MM-DD]` lists the messages the bot
    asked to clarify or did not understand, grouped and counted, most frequent first.
    """
    settings, pst = common.load()
    if words == ("unknown",):
        _unknown(settings.database_url, office, since)
        return
    offices = [(o.code, o.nama) for o in pst.offices]
    lines = [" ".join(words)] if words else (line.rstrip("\n") for line in sys.stdin)
    for text in lines:
        u = understand(text, offices)
        if as_json:
            shown = {"text": text, "intent": u.intent, "confidence": u.confidence}
            click.echo(json.dumps({**shown, "slots": u.slots}, ensure_ascii=False))
        else:
            slots = " ".join(f"{k}={v}" for k, v in u.slots.items())
            click.echo(f"{u.intent} ({u.confidence:.2f}) {slots}".rstrip() + f"  ← {text}")


def _unknown(database_url: str, office: str | None, since: dt.datetime | None) -> None:
    from sqlalchemy import func, select

    from storage.db import Database, migrate
    from storage.models import NluMiss

    text = func.lower(NluMiss.text)
    query = (
        select(text, func.count(), func.max(NluMiss.intent), func.max(NluMiss.created_at))
        .group_by(text)
        .order_by(func.count().desc(), text)
    )
    if office:
        query = query.where(NluMiss.office_code == office)
    if since:
        query = query.where(NluMiss.created_at >= since)
    db = Database(database_url)
    try:
        migrate(db.engine)
        with db.transaction() as session:
            rows = session.execute(query).all()
    finally:
        db.dispose()
    for said, count, intent, last in rows:
        click.echo(f"{count:>4}  {said}  (tebakan: {intent}; terakhir {last:%Y-%m-%d})")
    click.echo(f"{sum(r[1] for r in rows)} pesan, {len(rows)} berbeda")
