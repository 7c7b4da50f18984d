"""nlu misses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_misses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("office_code", sa.String(length=4), nullable=True),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["visitor_id"], ["visitors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("nlu_misses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nlu_misses_visitor_id"), ["visitor_id"])
        batch_op.create_index(batch_op.f("ix_nlu_misses_office_code"), ["office_code"])
        batch_op.create_index(batch_op.f("ix_nlu_misses_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("nlu_misses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nlu_misses_created_at"))
        batch_op.drop_index(batch_op.f("ix_nlu_misses_office_code"))
        batch_op.drop_index(batch_op.f("ix_nlu_misses_visitor_id"))
    op.drop_table("nlu_misses")
