"""Webhook throughput: PST Bot beside a bare Flask app and a python-telegram-bot peer.

    python bench/webhook.py [--seconds 10] [--connections 16] [--runs 3] [--only NAME ...]
    python bench/webhook.py --rate 50 [--seconds 30] [--only NAME ...]

Each contender serves ``POST /webhook`` on 127.0.0.1 while wrk (``apt-get install wrk``) posts
real-shaped Telegram updates with distinct ``update_id``s from 200 users, each cycling through
greeting → office → service information → library → menu (2 wrk threads × 100 users).
Replies go to one fast fake Bot API
in this process, which counts ``sendMessage`` calls. For each contender the median of ``--runs``
runs is printed: replies per second (replies that reached the fake while wrk ran), requests per
second, and CPU milliseconds per reply (user + system time of the contender's processes).

With ``--rate N`` no wrk runs: updates are posted at a steady N per second instead, each from a
new visitor writing "halo", and the time from posting an update to the first ``sendMessage`` to
its chat is measured: p50, p99 and how many got no reply within 5 s after the run.

Contenders: ``bare`` (Flask under gunicorn, 2 workers: parse the update, send one reply, no
state), ``ptb`` (python-telegram-bot's Application with a ConversationHandler and
PicklePersistence behind its own webhook server), ``pstbot-sqlite`` (``pstbot serve``) and
``pstbot-postgres`` (gunicorn ``bot.wsgi:app``, 2 workers, plus ``pstbot worker``; needs the
PostgreSQL server on 127.0.0.1:5432). Needs gunicorn and tornado: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "123456:bench-token-aaaaaaaaaaaaaaaaaaaaaaaaaaa"
SECRET = "bench-secret"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
TICKS = os.sysconf("SC_CLK_TCK")


class FakeBotApi:
    """The Bot API as far as the contenders use it, answering at once; counts sendMessage."""

    def __init__(self) -> None:
        self.sent = 0
        self.first: dict[int, float] = {}  # chat_id → when its first sendMessage arrived
        self.port = _free_port()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> None:
        await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=512)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split()[1].rsplit("/", 1)[-1]
                length = next(
                    (
                        int(v)
                        for k, _, v in (h.partition(":") for h in lines[1:])
                        if k.lower() == "content-length"
                    ),
                    0,
                )
                payload = await reader.readexactly(length)
                if method == "sendMessage":
                    self._note(payload)
                body = json.dumps({"ok": True, "result": self._result(method)}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _note(self, payload: bytes) -> None:
        """Note when the first reply to a chat arrived (JSON, or a form as PTB posts)."""
        try:
            body = json.loads(payload)
        except ValueError:
            body = {k: v[0] for k, v in parse_qs(payload.decode("latin-1")).items()}
        try:
            chat = int(body["chat_id"])
        except (KeyError, TypeError, ValueError):
            return  # counted, not timed
        self.first.setdefault(chat, time.monotonic())

    def _result(self, method: str) -> object:
        if method == "getMe":
            return {"id": 1, "is_bot": True, "first_name": "PST", "username": "pst_bench_bot"}
        if method == "sendMessage":
            self.sent += 1
            return {"message_id": self.sent, "date": 0, "chat": {"id": 1, "type": "private"}}
        return True


WRK_SCRIPT = """
local texts = {"halo", "BPS Kabupaten Kendal", "Info layanan", "Perpustakaan", "menu"}
local threads, counter = 0, 0
tid, base = 0, 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
  thread:set("base", (os.time() % 100000) * 100000000 + threads * 10000000)
end
function request()
  counter = counter + 1
  local user = 100000 + tid * 1000 + counter % 100
  local text = texts[(math.floor(counter / 100) % #texts) + 1]
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private",' ..
    '"first_name":"Warga"},"from":{"id":%d,"is_bot":false,"first_name":"Warga"},"text":"%s"}}',
    base + counter, counter, os.time(), user, user, text)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "SECRET"}, body)
end
"""

BARE_APP = """
import httpx
from flask import Flask, request

app = Flask(__name__)
client = httpx.Client(base_url="{api}/bot{token}")

@app.post("/webhook")
def webhook():
    update = request.get_json()
    chat = update["message"]["chat"]["id"]
    client.post("/sendMessage", json={{"chat_id": chat, "text": "Halo!"}})
    return {{}}
"""

PTB_APP = """
from telegram import Update
from telegram.ext import (Application, CommandHandler, ConversationHandler, MessageHandler,
                          PicklePersistence, filters)

OFFICE, MENU = range(2)

async def greet(update, context):
    await update.message.reply_text("Selamat datang. Kantor BPS mana?")
    return OFFICE

async def office(update, context):
    context.user_data["office"] = update.message.text
    await update.message.reply_text("Menu utama: 1. Info layanan 2. Perpustakaan")
    return MENU

async def menu(update, context):
    await update.message.reply_text(f"{{update.message.text}}: persyaratan dan prosedur ...")
    return MENU

app = (Application.builder().token("{token}").base_url("{api}/bot")
       .persistence(PicklePersistence("{folder}/ptb.pickle")).build())
app.add_handler(ConversationHandler(
    entry_points=[MessageHandler(filters.TEXT, greet)],
    states={{OFFICE: [MessageHandler(filters.TEXT, office)],
            MENU: [MessageHandler(filters.TEXT, menu)]}},
    fallbacks=[CommandHandler("menu", greet)], name="pst", persistent=True))
app.run_webhook(listen="127.0.0.1", port={port}, url_path="webhook", secret_token="{secret}",
                webhook_url="http://127.0.0.1:{port}/webhook", drop_pending_updates=False)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in process group ``pgid``."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            httpx.post(url, content=b"{}", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def _contender(name: str, api: str, folder: Path) -> tuple[list[list[str]], dict[str, str], str]:
    """Commands to start ``name`` (the last one serves HTTP), their environment, its URL."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pstbot_env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": api,
        "PSTBOT_DATA_DIR": str(folder / "data"),
        "PSTBOT_CONFIG": str(ROOT / "config.yaml"),
    }
    gunicorn = [
        str(BIN / "gunicorn"),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if name == "bare":
        (folder / "bare_app.py").write_text(BARE_APP.format(api=api, token=TOKEN))
        env["PYTHONPATH"] = str(folder)
        return (
            [[*gunicorn, "-k", "gthread", "--threads", "8", "bare_app:app"]],
            env,
            f"http://127.0.0.1:{port}/webhook",
        )
    if name == "ptb":
        script = PTB_APP.format(api=api, token=TOKEN, folder=folder, port=port, secret=SECRET)
        (folder / "ptb_app.py").write_text(script)
        return (
            [[sys.executable, str(folder / "ptb_app.py")]],
            env,
            f"http://127.0.0.1:{port}/webhook",
        )
    url = f"http://127.0.0.1:{port}/webhook/telegram"
    if name == "pstbot-sqlite":
        env.update(pstbot_env, DATABASE_URL=f"sqlite:///{folder / 'pst.sqlite3'}")
        return [[str(BIN / "pstbot"), "serve", "--port", str(port)]], env, url
    database = f"pstbot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    env.update(pstbot_env, DATABASE_URL=f"{POSTGRES}/{database}")
    subprocess.run([str(BIN / "pstbot"), "migrate"], env=env, check=True, capture_output=True)
    return [[str(BIN / "pstbot"), "worker"], [*gunicorn, "bot.wsgi:app"]], env, url


def _stop(proc: subprocess.Popen) -> None:
    """Wait for a contender asked to stop; kill it when it lingers (PTB drains its queue)."""
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def _started(name: str, api: FakeBotApi) -> Iterator[tuple[Path, list[subprocess.Popen], str]]:
    """A freshly started ``name`` answering on its URL: (its folder, its processes, the URL);
    stopped on leaving."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        commands, env, url = _contender(name, f"http://127.0.0.1:{api.port}", folder)
        procs = []
        for command in commands:
            procs.append(
                subprocess.Popen(
                    command,
                    env=env,
                    cwd=folder,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            time.sleep(4 if len(commands) > 1 and command is commands[0] else 0)
        try:
            _wait_up(url, procs[-1])
            time.sleep(1)
            yield folder, procs, url
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                _stop(proc)
            if "/pstbot_bench_" in env.get("DATABASE_URL", ""):
                _drop(env["DATABASE_URL"].rsplit("/", 1)[1])


def _drop(database: str) -> None:
    """Drop the PostgreSQL database made for one run."""
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_once(name: str, api: FakeBotApi, seconds: int, connections: int) -> dict[str, float]:
    """One load run against a freshly started ``name``; its replies/s, requests/s, CPU ms."""
    with _started(name, api) as (folder, procs, url):
        script = folder / "load.lua"
        script.write_text(WRK_SCRIPT.replace("SECRET", SECRET))
        cpu0 = sum(_cpu_seconds(p.pid) for p in procs)
        sent0 = api.sent
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        replies = api.sent - sent0
        cpu = sum(_cpu_seconds(p.pid) for p in procs) - cpu0
    requests = float(
        next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    )
    return {
        "replies/s": replies / seconds,
        "requests/s": requests,
        "cpu ms/reply": 1000 * cpu / max(replies, 1),
    }


def paced(name: str, api: FakeBotApi, rate: int, seconds: int) -> dict[str, float]:
    """Post ``rate`` updates per second for ``seconds`` to a freshly started ``name``, each from
    a new visitor; the first reply's latency p50/p99 in ms and the unanswered count."""
    with _started(name, api) as (_, _, url):
        posted = _post_steadily(url, rate, seconds)
        time.sleep(5)
    waits = sorted(1000 * (api.first[c] - t) for c, t in posted.items() if c in api.first)
    if not waits:
        return {"p50 ms": float("nan"), "p99 ms": float("nan"), "unanswered": len(posted)}
    return {
        "p50 ms": waits[len(waits) // 2],
        "p99 ms": waits[min(len(waits) - 1, int(len(waits) * 0.99))],
        "unanswered": len(posted) - len(waits),
    }


def _post_steadily(url: str, rate: int, seconds: int) -> dict[int, float]:
    """Post update i at ``i / rate`` s from a pool of threads; chat id → when it was posted."""
    base = 7_000_000_000 + int(time.time()) % 1_000_000 * 1000
    posted: dict[int, float] = {}
    client = httpx.Client(headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=30)

    def post(i: int) -> None:
        chat = base + i
        update = {
            "update_id": chat,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Warga"},
                "from": {"id": chat, "is_bot": False, "first_name": "Warga"},
                "text": "halo",
            },
        }
        posted[chat] = time.monotonic()
        client.post(url, json=update)

    start = time.monotonic()
    with ThreadPoolExecutor(64) as pool:
        for i in range(rate * seconds):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            pool.submit(post, i)
    client.close()
    return posted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, help="steady updates per second: reply latency")
    parser.add_argument(
        "--only", nargs="*", default=["bare", "ptb", "pstbot-sqlite", "pstbot-postgres"]
    )
    args = parser.parse_args()
    api = FakeBotApi()
    if args.rate:
        for name in args.only:
            result = paced(name, api, args.rate, args.seconds)
            print(
                f"{name:16} {args.rate}/s: " + "  ".join(f"{k} {v:.0f}" for k, v in result.items())
            )
        return
    results = {}
    for name in args.only:
        runs = [run_once(name, api, args.seconds, args.connections) for _ in range(args.runs)]
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{name:16} " + "  ".join(f"{k} {v:8.1f}" for k, v in results[name].items()), flush=True
        )
    if "bare" in results and "ptb" in results:
        for name in (n for n in results if n.startswith("pstbot")):
            replies = results[name]["replies/s"]
            print(
                textwrap.dedent(f"""\
                {name}: {replies / results["ptb"]["replies/s"]:.2f}x the peer, \
{replies / results["bare"]["replies/s"]:.2f}x the bare stack""")
            )


if __name__ == "__main__":
    main()
