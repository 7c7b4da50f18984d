"""What one inbound Telegram message costs PST Bot, in-process: SQL statements, transactions
and CPU per message, from the webhook to the reply taken by the Bot API.

    python bench/hotpath.py [--messages 500] [--database URL] [--profile out.txt] [--statements]

A :class:`bot.service.Service` (no scheduler) serves its Flask app through the test client;
updates from 50 users cycle greeting → office → service information → library → menu (the
load of ``bench/webhook.py``). Replies go to that script's fast fake Bot API. Statements are
counted with SQLAlchemy's ``before_cursor_execute`` event, transactions with ``commit``; CPU
is the process's user + system time (webhook and courier threads alike, less the fake's)
divided by the messages. The first round of users is a warm-up and not counted.
``--database`` defaults to a fresh SQLite file; a ``postgresql://`` URL is used as given
(its tables must be empty or absent). ``--profile FILE`` writes py-spy's ``--gil`` raw
(collapsed stacks) profile of the measured part.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sqlalchemy import event  # noqa: E402
from webhook import SECRET, TICKS, TOKEN, FakeBotApi  # noqa: E402

TEXTS = ("halo", "BPS Kabupaten Kendal", "Info layanan", "Perpustakaan", "menu")
USERS = 50


def _update(n: int) -> dict:
    user = 200000 + n % USERS
    text = TEXTS[(n // USERS) % len(TEXTS)]
    chat = {"id": user, "type": "private", "first_name": "Warga"}
    sender = {"id": user, "is_bot": False, "first_name": "Warga"}
    message = {"message_id": n, "date": int(time.time()), "chat": chat, "from": sender}
    return {"update_id": 10_000_000 + n, "message": {**message, "text": text}}


def _wait_for(api: FakeBotApi, sent: int, timeout: float = 60) -> None:
    """Until at least ``sent`` replies arrived and no more came for 0.3 s (a message may
    have several replies)."""
    deadline, last, quiet = time.monotonic() + timeout, -1, 0.0
    while api.sent < sent or quiet < 0.3:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{api.sent} replies of {sent} arrived")
        quiet = quiet + 0.01 if api.sent == last else 0.0
        last = api.sent
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--database")
    parser.add_argument("--profile")
    parser.add_argument("--statements", action="store_true", help="list them by kind too")
    args = parser.parse_args()
    api = FakeBotApi()
    [fake] = [t for t in threading.enumerate() if t is not threading.main_thread()]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            TELEGRAM_API_URL=f"http://127.0.0.1:{api.port}",
            PSTBOT_DATA_DIR=str(Path(tmp) / "data"),
            PSTBOT_CONFIG=str(ROOT / "config.yaml"),
            DATABASE_URL=args.database or f"sqlite:///{tmp}/pst.sqlite3",
        )
        from bot.app import create_app
        from bot.service import Service
        from bot.settings import load_settings

        service = Service(*load_settings())
        try:
            _measure(service, create_app(service).test_client(), api, fake.native_id, args)
        finally:
            service.close()


def _cpu(fake: int) -> float:
    """Seconds of CPU this process spent, less the fake Bot API's thread (``fake``)."""
    times = os.times()
    fields = Path(f"/proc/self/task/{fake}/stat").read_text().rsplit(")", 1)[1].split()
    return times.user + times.system - (int(fields[11]) + int(fields[12])) / TICKS


def _measure(service, client, api: FakeBotApi, fake: int, args) -> None:
    counts: Counter[str] = Counter()
    texts: Counter[str] = Counter()

    @event.listens_for(service.db.engine, "before_cursor_execute")
    def _statement(_conn, _cursor, statement, *_):
        counts["statements"] += 1
        counts[statement.split(None, 1)[0].upper()] += 1
        texts[" ".join(statement.split())[:110]] += 1

    @event.listens_for(service.db.engine, "commit")
    def _commit(_conn):
        counts["commits"] += 1

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    def post(n: int) -> None:
        answer = client.post("/webhook/telegram", data=json.dumps(_update(n)), headers=headers)
        assert answer.status_code == 200, answer.status_code

    for n in range(USERS):
        post(n)
    _wait_for(api, USERS)
    counts.clear()
    texts.clear()
    spy = _profile(args.profile)
    sent0, cpu0, wall0 = api.sent, _cpu(fake), time.monotonic()
    for n in range(USERS, USERS + args.messages):
        post(n)
    _wait_for(api, sent0 + args.messages)
    cpu, wall = _cpu(fake) - cpu0, time.monotonic() - wall0
    if spy:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on an interrupt
        spy.wait()
    print(f"database: {service.db.engine.dialect.name}, {args.messages} messages")
    print(f"replies: {api.sent - sent0}, {args.messages / wall:.0f} messages/s (one client)")
    print(f"CPU: {1000 * cpu / args.messages:.2f} ms per message")
    for key, value in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{key}: {value / args.messages:.2f} per message")
    for text, value in texts.most_common() if args.statements else ():
        print(f"{value / args.messages:5.2f}  {text}")


def _profile(path: str | None) -> subprocess.Popen | None:
    if not path:
        return None
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--gil", "-r", "200", "-f", "raw", "-o", path]
    return subprocess.Popen([*command, "-p", str(os.getpid())], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
