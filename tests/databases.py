"""Test databases made from templates: migrating (and loading the shipped catalogue) once per
session instead of once per test.

A template is ``schema`` (migrated, as the ``db`` fixture makes a database) or ``catalogue``
(also holding the shipped publications, as a starting service makes it: ``Service`` then finds
a migrated schema and a catalogue and changes nothing). A SQLite template is a file, copied for
a test. A PostgreSQL template is cloned (``CREATE DATABASE … TEMPLATE``) only when no clone is
free: creating and dropping a database cost about two seconds a test on the shared server
(each writes and syncs the whole database), so a used clone is reset to the template's rows
instead — every table emptied, the template's rows and sequence positions put back from the
``pstbot_template`` schema it carries — and given to the next test.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import psycopg

from catalogue.importer import load_default
from storage.db import Database, migrate

KINDS = ("schema", "catalogue")
SNAPSHOT = "pstbot_template"  # schema in each PostgreSQL template: a copy of its rows
_PUBLIC_TABLES = (
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
    "AND tablename <> 'alembic_version' ORDER BY tablename"
)
_SHAPE = (  # the public schema's shape: a test that changed it gets its clone dropped
    "SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type, ',' "
    "ORDER BY table_name, column_name)) FROM information_schema.columns "
    "WHERE table_schema = 'public'"
)


def _fill(url: str, kind: str) -> None:
    """Migrate the database at ``url`` and, for ``catalogue``, load the shipped catalogue."""
    database = Database(url)
    try:
        migrate(database.engine)
        if kind == "catalogue":
            load_default(database)
    finally:
        database.dispose()  # the last connection gone, SQLite folds its WAL into the file


class SqliteTemplates:
    """SQLite template files under ``folder``, made on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, kind: str) -> Path:
        """The template file of ``kind``."""
        path = self.folder / f"{kind}.sqlite3"
        if not path.exists():
            _fill(f"sqlite:///{path}", kind)
        return path

    def copy(self, kind: str, path: Path) -> None:
        """Write a copy of the template ``kind`` at ``path``."""
        shutil.copyfile(self.path(kind), path)


class PostgresTemplates:
    """PostgreSQL templates and their clones on the server at ``server`` (a URL whose
    database may be connected to for ``CREATE DATABASE``)."""

    def __init__(self, server: str) -> None:
        self.server = server
        self._templates: dict[str, str] = {}
        self._shapes: dict[str, str] = {}
        self._free: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self._kind: dict[str, str] = {}  # clone → its template's kind

    def url(self, name: str) -> str:
        """The URL of database ``name`` on the server."""
        return self.server.rsplit("/", 1)[0] + f"/{name}"

    def admin(self, statement: str) -> None:
        """Run ``statement`` (``CREATE``/``DROP DATABASE``) outside a transaction."""
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(statement)

    def new_name(self) -> str:
        return f"pstbot_test_{uuid.uuid4().hex[:12]}"

    def acquire(self, kind: str) -> str:
        """The name of a database as the template ``kind`` is, for one test's use."""
        if self._free[kind]:
            return self._free[kind].pop()
        name = self.new_name()
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._template(kind)}"')
        self._kind[name] = kind
        return name

    def release(self, name: str) -> None:
        """Reset the clone ``name`` to its template's rows for the next test; drop it when
        that fails or the test changed its schema."""
        kind = self._kind[name]
        try:
            with psycopg.connect(self.url(name)) as conn:
                _end_other_sessions(conn)
                shaped = conn.execute(_SHAPE).fetchone()[0] == self._shapes[kind]
                if shaped:
                    _reset(conn)
        except psycopg.Error:
            shaped = False
        if shaped:
            self._free[kind].append(name)
        else:
            del self._kind[name]
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop every clone still kept and the templates."""
        for name in [*self._kind, *self._templates.values()]:
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._kind.clear()
        self._templates.clear()

    def _template(self, kind: str) -> str:
        if kind not in self._templates:
            name = self.new_name()
            self.admin(f'CREATE DATABASE "{name}"')
            self._templates[kind] = name
            _fill(self.url(name), kind)
            with psycopg.connect(self.url(name)) as conn:
                _snapshot(conn)
                self._shapes[kind] = conn.execute(_SHAPE).fetchone()[0]
        return self._templates[kind]


def _snapshot(conn: psycopg.Connection) -> None:
    """Copy the non-empty public tables and the sequence positions into :data:`SNAPSHOT`."""
    conn.execute(f"CREATE SCHEMA {SNAPSHOT}")
    for (table,) in conn.execute(_PUBLIC_TABLES).fetchall():
        if conn.execute(f'SELECT EXISTS (SELECT FROM public."{table}")').fetchone()[0]:
            conn.execute(f'CREATE TABLE {SNAPSHOT}."{table}" AS TABLE public."{table}"')
    conn.execute(
        f"CREATE TABLE {SNAPSHOT}._sequences AS SELECT "
        "format('%I.%I', schemaname, sequencename) AS name, "
        "coalesce(last_value, start_value) AS value, last_value IS NOT NULL AS called "
        "FROM pg_sequences WHERE schemaname = 'public'"
    )


def _reset(conn: psycopg.Connection) -> None:
    """Empty every public table and put the snapshot's rows and sequence positions back, in
    one transaction. Foreign keys are not checked meanwhile (``session_replication_role``):
    the rows are the template's own. ``DELETE`` rather than ``TRUNCATE``: on a few small
    tables it makes no new files to sync."""
    conn.execute("SET LOCAL session_replication_role = replica")
    for (table,) in conn.execute(_PUBLIC_TABLES).fetchall():
        conn.execute(f'DELETE FROM public."{table}"')
    snapshot = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> '_sequences'",
        (SNAPSHOT,),
    ).fetchall()
    for (table,) in snapshot:
        conn.execute(f'INSERT INTO public."{table}" SELECT * FROM {SNAPSHOT}."{table}"')
    conn.execute(f"SELECT setval(name, value, called) FROM {SNAPSHOT}._sequences")


def _end_other_sessions(conn: psycopg.Connection) -> None:
    """Close the connections a test left to its database (as ``DROP … WITH (FORCE)`` did)."""
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
