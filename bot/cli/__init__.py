"""``pstbot``: serve, run the scheduler worker, chat in the terminal, check the config."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click

from bot.cli import common
from bot.cli.catalogue import catalogue
from bot.cli.ikm import ikm
from bot.cli.nlu import nlu
from bot.cli.staff import staff
from bot.settings import Settings, load_settings
from office.config import ConfigError, load_config

logger = logging.getLogger(__name__)


@click.group()
def main() -> None:
    """PST Bot: the 24-hour WhatsApp and Telegram front door of a BPS PST unit."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Run the web app (webhooks, /healthz) and the scheduler in one process."""
    import waitress

    from bot.app import create_app
    from bot.service import settle

    settings, pst = common.start("INFO")
    service = common.service(settings, pst)
    settle()
    service.start_scheduler()
    logger.info(
        "PST Bot on http://%s:%s (channels: %s)",
        host,
        port,
        ", ".join(sorted(service.senders)) or "none configured",
    )
    try:
        waitress.serve(create_app(service), host=host, port=port, threads=threads)
    finally:
        service.close()


@main.command()
def migrate() -> None:
    """Prepare the database once before web workers start: migrate it to the newest schema and
    load the shipped catalogue into an empty one (``serve`` and ``worker`` do this too)."""
    settings, _ = common.start("INFO")
    common.prepare(settings)
    click.echo("database ready")


@main.command()
def worker() -> None:
    """Run only the scheduler, beside web workers started with gunicorn (bot.wsgi:app)."""
    from bot.service import settle

    settings, pst = common.start("INFO")
    service = common.service(settings, pst)
    settle()
    service.start_scheduler()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.close()


@main.command()
@click.option("--user", default="terminal", show_default=True, help="who you are in the chat")
def chat(user: str) -> None:
    """Talk to the bot in this terminal (no accounts needed). Ctrl-D ends."""
    from core.channels.local import CHANNEL, LocalSession

    settings, pst = common.start("WARNING")
    service = common.service(settings, pst, terminal=sys.stdout)
    session = LocalSession(user)
    click.echo('PST Bot — ketik pesan, misalnya "halo" (Ctrl-D untuk keluar).')
    try:
        for line in _lines():
            service.courier.deliver(service.engine.handle(session.inbound(line)))
            service.courier.deliver_chat(CHANNEL, user)  # the answer comes before the prompt
    finally:
        service.close()


def _lines():
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("\nAnda: ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive:
            if not line:
                return
            line = line.rstrip("\n")
            click.echo(f"\nAnda: {line}")
        yield line


@main.command("check-config")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def check_config(path: str | None) -> None:
    """Validate config.yaml (or PATH) and the environment; name the key and line of an error."""
    try:
        if path:
            pst, shared = load_config(path), False
        else:
            settings, pst = load_settings()
            shared = settings.whatsapp_enabled
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(1)
    for office in pst.offices:
        services = ", ".join(s.value for s in office.layanan)
        click.echo(f"{office.code}  {office.nama} ({office.zone_abbr}): {services}")
    for line in pst.warnings(shared):
        click.echo(f"warning: {line}")
    click.echo(f"OK: {len(pst.offices)} offices")


# The bot's menu in Telegram (setMyCommands): (command, description); each is a global word
# of handlers/menu.py.
COMMANDS = [  # Bot API BotCommand objects
    {"command": "menu", "description": "Menu utama"},
    {"command": "status", "description": "Status tiket Anda"},
    {"command": "bahasa", "description": "Ganti bahasa / Change language"},
    {"command": "bantuan", "description": "Bantuan"},
]


@main.command("outbox")
@click.option("--failed", is_flag=True, help="only messages that failed for good")
@click.option("--held", is_flag=True, help="only messages held for WhatsApp's 24-hour window")
def outbox(failed: bool, held: bool) -> None:
    """List what has not reached visitors (pending, held, failed), oldest first, with the
    reason; chat ids are shown by their last four characters only."""
    from sqlalchemy import select

    from storage.db import Database, migrate
    from storage.models import Outbox

    settings = common.load()[0]
    wanted = [s for s, on in (("failed", failed), ("held", held)) if on]
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
        with db.transaction() as session:
            rows = session.scalars(
                select(Outbox)
                .where(Outbox.status.in_(wanted or ("pending", "held", "failed")))
                .order_by(Outbox.id)
            ).all()
            lines = [_outbox_line(row) for row in rows]
    finally:
        db.dispose()
    click.echo("\n".join(lines) if lines else "nothing waiting")


def _outbox_line(row) -> str:
    reasons = {
        "held": "WhatsApp window closed: goes when the visitor writes",
        "pending": f"retry at {row.next_attempt_at:%Y-%m-%d %H:%M} UTC",
    }
    reason = (row.last_error or "-") if row.status == "failed" else reasons[row.status]
    return (
        f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.channel} …{row.chat_id[-4:]}\t"
        f"{row.status}\t{row.kind or '-'}\t{row.ref or '-'}\t{reason}"
    )


@main.command("set-telegram-webhook")
def set_telegram_webhook() -> None:
    """Point Telegram at {PUBLIC_BASE_URL}/webhook/telegram with the webhook secret and
    register the bot's commands (/menu, /status, /bahasa, /bantuan) with setMyCommands."""
    from core.channels.telegram import TelegramSender

    settings: Settings = common.load()[0]
    if not (settings.telegram_enabled and settings.public_base_url):
        click.echo("set TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and PUBLIC_BASE_URL", err=True)
        sys.exit(2)
    sender = TelegramSender(settings.telegram_bot_token, settings.telegram_api_url)
    try:
        sender.send(
            "setWebhook",
            {
                "url": f"{settings.public_base_url}/webhook/telegram",
                "secret_token": settings.telegram_webhook_secret,
                "allowed_updates": ["message", "callback_query"],
            },
        )
        sender.send("setMyCommands", {"commands": COMMANDS})
    finally:
        sender.close()
    click.echo("webhook set")


@main.group()
def privacy() -> None:
    """Personal data (UU 27/2022): retention."""


@privacy.command()
@click.option("--dry-run", is_flag=True, help="only count what would be erased")
def purge(dry_run: bool) -> None:
    """Erase profiles and anonymise message texts older than each office's ``retensi``
    (config.yaml); prints the count per kind (visitors, table.column rows, files)."""
    settings, pst = common.start("WARNING")
    service = common.service(settings, pst)
    try:
        counts = service.purge(dry_run=dry_run)
    finally:
        service.close()
    click.echo("dry run: nothing changed" if dry_run else "purged")
    for kind, count in sorted(counts.items()):
        click.echo(f"{kind}: {count}")


for command in (catalogue, ikm, nlu, staff):
    main.add_command(command)
