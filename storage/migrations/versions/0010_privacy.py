"""personal data protection: the consent version and the audit log

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:30:00

UU No. 27/2022 (PDP): the version of the consent text a visitor accepted is kept beside the
time (``visitors.consent_version``); ``audit_log`` records every staff look at contact details,
every export, erasure and retention run (who, what, which visitor/ticket, when).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_version", sa.String(32), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("visitor_id", sa.Integer(), sa.ForeignKey("visitors.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_audit_log_visitor_id", "audit_log", ["visitor_id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_visitor_id", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_column("consent_version")
