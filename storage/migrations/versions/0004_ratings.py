"""ratings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 14:14:57.531362
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("office_code", sa.String(length=4), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("u1", sa.Integer(), nullable=True),
        sa.Column("u2", sa.Integer(), nullable=True),
        sa.Column("u3", sa.Integer(), nullable=True),
        sa.Column("u4", sa.Integer(), nullable=True),
        sa.Column("u5", sa.Integer(), nullable=True),
        sa.Column("u6", sa.Integer(), nullable=True),
        sa.Column("u7", sa.Integer(), nullable=True),
        sa.Column("u8", sa.Integer(), nullable=True),
        sa.Column("u9", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visitor_id", "ref"),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_office_code"), ["office_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_visitor_id"), ["visitor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_visitor_id"))
        batch_op.drop_index(batch_op.f("ix_ratings_office_code"))

    op.drop_table("ratings")
