"""Database connections, transactions and migrations.

SQLite (the default, one file) and PostgreSQL (``DATABASE_URL=postgresql://…``, for several
web workers) are both first-class. On SQLite every transaction starts with ``BEGIN IMMEDIATE``
so that two threads handling the same visitor queue up instead of failing with "database is
locked" when both try to write (SQLAlchemy docs, "Serializable isolation / Savepoints /
Transactional DDL" for pysqlite).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Generic, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
T = TypeVar("T")
R = TypeVar("R")


def normalize_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver for PostgreSQL (``postgres://`` accepted too)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; for a SQLite file, create its folder first. Statement
    parameters (visitors' names, numbers, words) are kept out of error messages and logs."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A server that does not answer must not hold a webhook past Twilio's 15 s: give up
        # connecting after 5 s (the message is then spooled, core/inbox.py).
        return create_engine(
            url, pool_pre_ping=True, hide_parameters=True, connect_args={"connect_timeout": 5}
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def schema_behind(engine: Engine) -> str | None:
    """None when the database's schema is at the newest revision, else a one-line account of
    where it is (for a process that only connects, such as a gunicorn web worker)."""
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return None if current == head else f"schema at revision {current or 'none'}, not {head}"


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest Alembic revision (idempotent)."""
    cfg = _alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    logger.info("database schema is at the newest revision")


class Database:
    """An engine plus a session factory; ``transaction()`` is the unit of work.

    On SQLite the threads of this process take turns through a lock before ``BEGIN
    IMMEDIATE``: SQLite lets one writer in at a time and makes the others poll, sleeping up
    to 100 ms between tries, so under load the webhook's threads and the courier's starved
    each other (issue 12); a lock hands the turn over at once. Other processes on the same
    file still wait on SQLite's own lock.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        sqlite = self.engine.dialect.name == "sqlite"
        self._turn = threading.RLock() if sqlite else nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session inside one transaction: committed on success, rolled back on error."""
        with self._turn, self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Like :meth:`transaction`, for Core statements only: a connection in one transaction,
        without a session's identity map and unit of work (the outcomes of sent replies)."""
        with self._turn, self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class GroupCommit(Generic[T, R]):
    """Writes what several threads submit together: ``write(items)`` runs in one transaction
    for every item submitted while the previous write was running (group commit), and returns
    one result per item, in order.

    :meth:`submit` returns only once its item is committed, so a caller loses nothing by
    sharing a transaction; under load one commit serves many callers instead of each queueing
    for the database's write lock (issue 12: the outcomes of sent replies).
    """

    def __init__(self, write: Callable[[list[T]], Sequence[R]]) -> None:
        self._write = write
        self._queued: list[tuple[T, Future[R]]] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()

    def submit(self, item: T) -> R:
        """Write ``item`` (with whatever else is queued) and return its result.

        Raises:
            Exception: what ``write`` raised for the batch the item was in.
        """
        done: Future[R] = Future()
        with self._queue_lock:
            self._queued.append((item, done))
        with self._writer:
            if not done.done():  # no other thread has written it meanwhile: write the queue
                with self._queue_lock:
                    batch, self._queued = self._queued, []
                self._run(batch)
        return done.result()

    def _run(self, batch: list[tuple[T, Future[R]]]) -> None:
        try:
            results = self._write([item for item, _ in batch])
        except Exception as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
