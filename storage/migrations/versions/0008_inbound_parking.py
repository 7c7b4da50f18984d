"""inbound parking and the scheduler lease

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 19:00:00

An inbound message whose processing failed is kept (``status = 'parked'``, the message in
``payload``) and processed again by the scheduler; WhatsApp never re-delivers a webhook.
``scheduler_lease`` lets only one scheduler run per database and tells ``/healthz`` when it
last worked.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(8), nullable=False, server_default="done")
        )
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.create_index("ix_inbound_parked", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_parked")
        for column in ("last_error", "next_attempt_at", "attempts", "payload", "status"):
            batch_op.drop_column(column)
