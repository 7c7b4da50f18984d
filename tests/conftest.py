"""Fixtures: a real PST Bot over HTTP on a real database, with fake Telegram and Twilio APIs.

Every test that touches a database runs twice: on a SQLite file and on a fresh database of the
PostgreSQL server at 127.0.0.1:5432 (``PSTBOT_TEST_POSTGRES`` overrides the server URL).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx._transports.default as httpx_transports
import pytest
from aiosmtpd.controller import Controller
from apscheduler.job import Job
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from catalogue.samples import ensure_sample_files
from office.config import load_config
from storage.db import Database, migrate
from storage.models import Publication
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.fakes import FakeTelegram, FakeTwilio
from tests.fakes.smtp import Recorder
from tests.harness import (
    AUTH_TOKEN,
    BOT_TOKEN,
    SHARED_NUMBER,
    TWILIO_SID,
    RunningBot,
    TelegramVisitor,
    WhatsAppVisitor,
    free_port,
)

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("PSTBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def only_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that would leave this machine (the real APIs must never be hit)."""
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL_HOSTS:
            raise ConnectionRefusedError(f"test tried to reach {address[0]}: only 127.0.0.1")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


_all_run_times = Job._get_run_times


def _coalesced_run_times(job: Job, now: dt.datetime) -> list[dt.datetime]:
    """APScheduler's ``Job._get_run_times`` for a coalescing interval job that is far behind:
    only the latest missed run time, the one APScheduler keeps of the list when coalescing.
    It walks the missed runs one interval at a time, and a test travelling days ahead
    (time_machine) with the outbox retried every 0.3 s kept the scheduler thread busy for
    seconds. The jobs run exactly as before."""
    trigger, due = job.trigger, job.next_run_time
    plain = isinstance(trigger, IntervalTrigger) and not (trigger.jitter or trigger.end_date)
    if not (job.coalesce and plain and due):
        return _all_run_times(job, now)
    missed = (now.timestamp() - due.timestamp()) // trigger.interval_length
    if missed < 1:
        return _all_run_times(job, now)
    last = due.timestamp() + missed * trigger.interval_length
    return [dt.datetime.fromtimestamp(last, tz=trigger.timezone)]


@pytest.fixture(autouse=True, scope="session")
def scheduler_catches_up_at_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Job, "_get_run_times", _coalesced_run_times)
        yield


_new_ssl_context = httpx_transports.create_ssl_context


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    return _new_ssl_context()


def _shared_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True):
    """httpx's ``create_ssl_context``, the default context made once. Every httpx client loads
    the CA store (~0.1 s on a busy machine), and python-telegram-bot makes two per service;
    the tests never leave 127.0.0.1 over plain HTTP, so the context is never even used."""
    if verify is True and cert is None and trust_env:
        return _default_ssl_context()
    return _new_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


@pytest.fixture(autouse=True, scope="session")
def one_ssl_context() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", _shared_ssl_context)
        yield


STAFF_USER = 9001
TEMPLATE_SID = "HX" + "b2" * 16  # data_siap
# Approved templates of the test offices (every class but undangan_penilaian), with the texts
# the README suggests: {{1}} the visitor's name, {{2}} the ticket number.
TEMPLATES = {
    "data_siap": (
        TEMPLATE_SID,
        "Halo {{1}}, data permintaan {{2}} sudah siap. Balas pesan ini untuk menerimanya.",
    ),
    "jawaban_petugas": (
        "HX" + "c3" * 16,
        "Halo {{1}}, petugas PST sudah menjawab tiket {{2}}. Balas untuk membacanya.",
    ),
    "pengingat_tutup": (
        "HX" + "d4" * 16,
        "Halo {{1}}, tiket {{2}} akan ditutup otomatis besok. Balas bila masih perlu.",
    ),
    "konsultasi_ditutup": (
        "HX" + "e5" * 16,
        "Halo {{1}}, tiket {{2}} sudah ditutup. Balas pesan ini untuk membaca pesan penutupnya.",
    ),
    "tiket_diperbarui": (
        "HX" + "f6" * 16,
        "Halo {{1}}, ada kabar baru tentang tiket {{2}}. Balas pesan ini untuk membacanya.",
    ),
}
STAFF_CHATS = {
    "6106": -1001006106,
    "3324": -1001003324,
    "7601": -1001007601,
    "1905": -1001001905,
    "6571": -1001006571,
}


@pytest.fixture(scope="session")
def pst():
    """The shipped config.yaml."""
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="session")
def test_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped config.yaml with a staff group (a forum supergroup id) for every office."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    templates = ", ".join(f"{name}: {sid}" for name, (sid, _) in TEMPLATES.items())
    for code, chat in STAFF_CHATS.items():
        head, sep, rest = text.partition(f'code: "{code}"')
        staff = (
            f"staff_chat_id: {chat}\n    staff_user_ids: [{STAFF_USER}]\n"
            f"    whatsapp_templates: {{{templates}}}"
        )
        text = head + sep + rest.replace("staff_chat_id: null", staff, 1)
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates(POSTGRES)
    yield templates
    templates.close()


# What a fixture makes of the new database at start: such a test gets it made so already.
PREPARED_BY = (("pstbot", "catalogue"), ("db", "schema"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    postgres_templates: PostgresTemplates,
) -> Iterator[str]:
    """A new database, a SQLite file or a PostgreSQL database: empty, or for a test using
    ``pstbot`` or ``db`` as that fixture would make it at start (from a template,
    :mod:`tests.databases`)."""
    kind = next((k for name, k in PREPARED_BY if name in request.fixturenames), None)
    if request.param == "sqlite":
        path = tmp_path / "pstbot.sqlite3"
        if kind:
            sqlite_templates.copy(kind, path)
        yield f"sqlite:///{path}"
    elif kind:
        name = postgres_templates.acquire(kind)
        yield postgres_templates.url(name)
        postgres_templates.release(name)
    else:
        name = postgres_templates.new_name()
        postgres_templates.admin(f'CREATE DATABASE "{name}"')
        yield postgres_templates.url(name)
        postgres_templates.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def smtp() -> Iterator[Callable[..., tuple[Recorder, int]]]:
    """Start an SMTP server on 127.0.0.1 (``Controller`` keyword arguments allowed); returns the
    handler and the port."""
    controllers: list[Controller] = []

    def start(**kwargs: Any) -> tuple[Recorder, int]:
        handler, port = Recorder(), free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return handler, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The schema migrated into ``database_url``, for tests below the webhooks."""
    database = Database(database_url)
    migrate(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegram]:
    with FakeTelegram(BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio_api(pst) -> Iterator[FakeTwilio]:
    senders = {f"whatsapp:{SHARED_NUMBER}"} | {
        f"whatsapp:{o.whatsapp}" for o in pst.offices if o.whatsapp
    }
    with FakeTwilio(TWILIO_SID, AUTH_TOKEN, senders) as fake:
        for sid, text in TEMPLATES.values():
            fake.approve(sid, text)
        yield fake


@pytest.fixture(scope="session")
def sample_files(
    sqlite_templates: SqliteTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A ``files`` folder holding the sample PDFs of the shipped catalogue, made once. A
    service makes a sample on its first download (:mod:`catalogue.samples`), which cost every
    test downloading one a fraction of a second."""
    files = tmp_path_factory.mktemp("files")
    database = Database(f"sqlite:///{sqlite_templates.path('catalogue')}")
    try:
        with database.transaction() as session:
            ensure_sample_files(files, session.scalars(select(Publication)).all())
    finally:
        database.dispose()
    return files


@pytest.fixture
def pstbot(
    database_url: str,
    telegram_api: FakeTelegram,
    twilio_api: FakeTwilio,
    test_config: Path,
    tmp_path: Path,
    sample_files: Path,
) -> Iterator[RunningBot]:
    """PST Bot serving HTTP on 127.0.0.1 with both channels pointed at the fakes (its data
    folder starting with the sample PDFs a service would make)."""
    shutil.copytree(sample_files, tmp_path / "data" / "files")
    bot = RunningBot(
        {
            "PSTBOT_CONFIG": str(test_config),
            "PSTBOT_DATA_DIR": str(tmp_path / "data"),
            "PSTBOT_SECRET_KEY": "test-secret-key-0123456789",
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": "pst-secret_123",
            "TELEGRAM_API_URL": telegram_api.base_url,
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_URL": twilio_api.base_url,
            "TWILIO_WHATSAPP_NUMBER": SHARED_NUMBER,
            "PSTBOT_OUTBOX_RETRY_SECONDS": 0.3,
            "PSTBOT_OUTBOX_BACKOFF_SECONDS": 0.5,
        }
    ).start()
    yield bot
    bot.stop()


@pytest.fixture
def wa(pstbot: RunningBot, twilio_api: FakeTwilio) -> WhatsAppVisitor:
    """A WhatsApp visitor, Rina, writing to BPS Kendal's own number."""
    return WhatsAppVisitor(pstbot, twilio_api, "+6281234567890", "+6289633243324", "Rina")


@pytest.fixture
def tg(pstbot: RunningBot, telegram_api: FakeTelegram) -> TelegramVisitor:
    """A Telegram visitor, Dewi, in a private chat with the bot."""
    return TelegramVisitor(pstbot, telegram_api, 5512345, "Dewi")
