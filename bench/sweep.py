"""Benchmark of the scheduler's sweep (``Service.sweep``: due-date reminders, unanswered and
idle consultations) over N open tickets on SQLite.

Run from the repository root: ``python bench/sweep.py`` (``--tickets 300 3000`` to choose the
sizes, ``--runs N`` runs per size, default 5).

Each run makes a fresh SQLite database with N open tickets of many visitors, mixed the way a
busy office has them — most not due: 40 % consultations answered yesterday, 30 % data requests
due in three weeks; and due: 10 % consultations to warn (staff answered six days ago), 5 % to
close (eight days), 5 % unanswered for twelve days, 10 % data requests overdue — then runs one
sweep (the courier is not kicked: nothing is sent). Printed per size, as the median of the
runs: the sweep's wall time, its longest write transaction (how long a webhook may wait for
SQLite's write lock) and the number of transactions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the packages, not this folder (bench/nlu.py would shadow nlu)

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import configure_mappers  # noqa: E402

from bot.service import Service  # noqa: E402
from bot.settings import Settings  # noqa: E402
from office.config import load_config  # noqa: E402
from storage.models import Conversation, Ticket, TicketEvent, Visitor, utcnow  # noqa: E402

OFFICE = "1905"  # promises an answer time for consultations (config.yaml)
# Twenty tickets: (kind, visitor wrote / staff wrote days ago, due in days), in the shares above.
MIX = [
    *[("KS", 1.1, 1, None)] * 8,  # answered yesterday
    *[("KS", 6.2, 6.1, None)] * 2,  # to warn
    ("KS", 8.1, 8, None),  # to close
    ("KS", 12, None, None),  # unanswered: staff reminded
    *[("PD", None, None, 21)] * 6,  # due in three weeks
    *[("PD", None, None, -1)] * 2,  # overdue
]


def staffed_config(folder: Path) -> Path:
    """The shipped config.yaml with a staff group for every office."""
    chats = iter(range(-1001000001, -1001000100, -1))
    text = re.sub(
        r"staff_chat_id: null",
        lambda _: f"staff_chat_id: {next(chats)}",
        (ROOT / "config.yaml").read_text(encoding="utf-8"),
    )
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def ticket(n: int, visitor: Visitor, now: dt.datetime) -> Ticket:
    """Open ticket number ``n`` of the mix described above."""
    kind, visitor_days, staff_days, due_days = MIX[n % len(MIX)]
    fields = {"due_at": now + dt.timedelta(days=due_days)} if due_days else {}
    if kind == "KS":
        fields = timers(now, visitor_days, staff_days)
    return Ticket(
        number=f"{kind}-{OFFICE}-20261101-{n:05d}",
        kind=kind,
        office_code=OFFICE,
        visitor=visitor,
        status="diproses",
        summary="Jumlah perahu motor per kecamatan",
        events=[TicketEvent(status="baru"), TicketEvent(status="diproses")],
        **fields,
    )


def timers(now: dt.datetime, visitor_days: float, staff_days: float | None) -> dict:
    """A consultation's last messages (days ago) as ticket fields."""
    staff_at = now - dt.timedelta(days=staff_days) if staff_days is not None else None
    return {"last_visitor_at": now - dt.timedelta(days=visitor_days), "last_staff_at": staff_at}


def one_run(tickets: int) -> tuple[float, float, int]:
    """(sweep seconds, longest transaction seconds, transactions) of one sweep."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(
            PSTBOT_CONFIG=staffed_config(folder),
            PSTBOT_DATA_DIR=folder / "data",
            DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}",
            TELEGRAM_BOT_TOKEN="123456:bench",
            TELEGRAM_WEBHOOK_SECRET="bench",
            TELEGRAM_API_URL="http://127.0.0.1:9",
        )
        service = Service(settings, load_config(settings.config_path))
        service.courier.kick = lambda *_: None  # measure the sweep, not the sending
        now = utcnow()
        with service.db.transaction() as session:
            for n in range(tickets):
                visitor = Visitor(channel="telegram", user_id=str(n), chat_id=str(n), lang="id")
                session.add_all([Conversation(visitor=visitor), ticket(n, visitor, now)])
        configure_mappers()  # done by the first message in a running service
        held: list[float] = []
        started: dict[int, float] = {}
        engine = service.db.engine
        event.listen(
            engine, "begin", lambda conn: started.__setitem__(id(conn), time.perf_counter())
        )
        event.listen(
            engine,
            "commit",
            lambda conn: held.append(time.perf_counter() - started.pop(id(conn))),
        )
        start = time.perf_counter()
        service.sweep()
        took = time.perf_counter() - start
        service.close()
    return took, max(held), len(held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[300, 1000, 3000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"{'tickets':>8} {'sweep s':>9} {'longest txn s':>14} {'transactions':>13}")
    for size in args.tickets:
        runs = [one_run(size) for _ in range(args.runs)]
        took, longest, count = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{size:>8} {took:>9.3f} {longest:>14.3f} {count:>13.0f}")


if __name__ == "__main__":
    main()
