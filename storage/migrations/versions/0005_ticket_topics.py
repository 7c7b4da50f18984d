"""ticket topics

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 14:15:21.174529
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_topic_id"), ["topic_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_topic_id"))
        batch_op.drop_column("topic_id")
