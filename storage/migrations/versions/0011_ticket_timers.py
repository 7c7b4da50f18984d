"""ticket timers and flags as columns, indexed for the scheduled jobs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 22:00:00

The hand-over's message times and the jobs' once-only flags lived as ISO strings and booleans in
``tickets.details`` (JSON), so every sweep loaded each open ticket to filter it in Python. They
become columns (naive UTC times, booleans) that ``staff/jobs.py`` selects on, with an index on
``(status, kind)``; existing values are moved out of ``details`` (and back on downgrade). The key
``held`` (a data file waiting for WhatsApp's window) has had no reader since 0009 — held messages
are outbox rows — and is dropped.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMES = {"last_visitor_at": "last_visitor_at", "last_staff_at": "last_staff_at"}  # key: column
FLAGS = {
    "warned": "idle_warned",
    "staff_reminded": "unanswered_reminded",
    "reminded": "due_reminded",
    "overdue_alerted": "overdue_alerted",
}
OBSOLETE = {"held"}

tickets = sa.table(
    "tickets",
    sa.column("id", sa.Integer()),
    sa.column("details", sa.JSON()),
    *(sa.column(c, sa.DateTime()) for c in TIMES.values()),
    *(sa.column(c, sa.Boolean()) for c in FLAGS.values()),
)


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for column in TIMES.values():
            batch_op.add_column(sa.Column(column, sa.DateTime(), nullable=True))
        for column in FLAGS.values():
            batch_op.add_column(
                sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        batch_op.create_index("ix_tickets_status_kind", ["status", "kind"], unique=False)
    conn = op.get_bind()
    moved = []
    for ticket_id, details in conn.execute(sa.select(tickets.c.id, tickets.c.details)):
        details = details or {}
        if details.keys() & (TIMES.keys() | FLAGS.keys() | OBSOLETE):
            moved.append({"_id": ticket_id, **_columns(details)})
    _update(conn, moved)


def downgrade() -> None:
    conn = op.get_bind()
    columns = [tickets.c[c] for c in (*TIMES.values(), *FLAGS.values())]
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.details, *columns))
    moved = [
        {"_id": row.id, "details": _details(row)}
        for row in rows
        if any(getattr(row, c) for c in (*TIMES.values(), *FLAGS.values()))
    ]
    _update(conn, moved)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_status_kind")
        for column in (*FLAGS.values(), *TIMES.values()):
            batch_op.drop_column(column)


def _columns(details: dict) -> dict:
    """The column values of a ticket's ``details``, and ``details`` without those keys."""
    values = {c: _naive_utc(details.get(key)) for key, c in TIMES.items()}
    values |= {c: bool(details.get(key)) for key, c in FLAGS.items()}
    kept = TIMES.keys() | FLAGS.keys() | OBSOLETE
    return values | {"details": {k: v for k, v in details.items() if k not in kept}}


def _details(row) -> dict:
    """``details`` of a ticket row with its times (ISO 8601) and raised flags put back."""
    details = dict(row.details or {})
    details |= {key: getattr(row, c).isoformat() for key, c in TIMES.items() if getattr(row, c)}
    return details | {key: True for key, c in FLAGS.items() if getattr(row, c)}


def _naive_utc(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time as naive UTC (the code wrote naive UTC; an offset is converted)."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _update(conn, rows: list[dict]) -> None:
    if rows:
        conn.execute(tickets.update().where(tickets.c.id == sa.bindparam("_id")), rows)
