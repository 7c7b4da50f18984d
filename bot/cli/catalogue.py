"""``pstbot catalogue``: import catalogue files, sync from the BPS WebAPI, search like visitors.

The database is ``DATABASE_URL`` (see ``bot.settings``); the schema is brought up to date first.
``sync`` reads the WebAPI key from ``BPS_WEBAPI_KEY`` and the API's address from
``BPS_WEBAPI_URL`` (default ``https://webapi.bps.go.id/v1/api``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click

from bot.settings import load_settings
from catalogue.importer import WEBAPI_URL, CatalogueError, ImportCounts, import_file, sync
from catalogue.search import SearchIndex
from office.config import ConfigError
from storage.db import Database, migrate


@click.group()
def catalogue() -> None:
    """The library catalogue: import, sync from the BPS WebAPI, search."""


@catalogue.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--domain", help="BPS domain code of a WebAPI JSON file (default: from its links)")
def import_command(file: Path, domain: str | None) -> None:
    """Import FILE: a BPS WebAPI publication list (.json), CSV with a header row (.csv) or
    JSON Lines (.jsonl). Re-importing updates changed records and leaves the rest."""
    with _database() as db:
        counts = _run(lambda: import_file(db, file, domain))
    _report(counts)


@catalogue.command("sync")
@click.option("--domain", required=True, help="BPS domain code, e.g. 6106 (Ketapang)")
def sync_command(domain: str) -> None:
    """Fetch every page of DOMAIN's publication list from the BPS WebAPI (key in
    BPS_WEBAPI_KEY) and import it."""
    key = os.environ.get("BPS_WEBAPI_KEY", "").strip()
    if not key:
        click.echo("set BPS_WEBAPI_KEY to your BPS WebAPI key (webapi.bps.go.id)", err=True)
        sys.exit(2)
    base_url = os.environ.get("BPS_WEBAPI_URL", "").strip() or WEBAPI_URL
    with _database() as db:
        counts = _run(lambda: sync(db, domain, key, base_url))
    _report(counts)


@catalogue.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--domain", help="only this BPS domain code (default: all domains)")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="print a JSON list of matches")
def search_command(query: tuple[str, ...], domain: str | None, limit: int, as_json: bool) -> None:
    """Search the catalogue for QUERY as visitors do (typos and abbreviations welcome)."""
    with _database() as db:
        index = SearchIndex.from_db(db)
    result = index.search(" ".join(query), domain=domain, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(hit) for hit in result.hits], ensure_ascii=False, indent=1))
        return
    if not len(index):
        click.echo("the catalogue is empty: import a file, or start the service once", err=True)
    if not result.hits:
        click.echo("no good match")
        return
    for rank, hit in enumerate(result.hits, 1):
        click.echo(f"{rank:>3}. {hit.score:5.1f}  {hit.domain}  {hit.title}  [{hit.pub_id}]")
    click.echo(f"{len(result.hits)} of {result.total} matches")


@contextmanager
def _database() -> Iterator[Database]:
    try:
        settings, _ = load_settings()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
        yield db
    finally:
        db.dispose()


def _run(action: Callable[[], ImportCounts]) -> ImportCounts:
    try:
        return action()
    except (CatalogueError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _report(counts: ImportCounts) -> None:
    for skipped in counts.skipped:
        click.echo(f"skipped {skipped.where}: {skipped.reason}", err=True)
    click.echo(str(counts))
