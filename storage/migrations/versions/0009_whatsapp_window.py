"""WhatsApp window: message class, held rows and delivery status on the outbox

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 19:10:00

``kind`` is the message's class (``jawaban_petugas``, ``data_siap``, …: which approved template
stands in for it outside WhatsApp's 24-hour window), ``ref`` the ticket it is about. A row whose
window closed waits with ``status = 'held'`` until the visitor writes. ``message_sid`` is Twilio's
MessageSid of the sent message and ``delivery`` the last status its callback reported.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(24), nullable=True))
        batch_op.add_column(sa.Column("ref", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("message_sid", sa.String(34), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(12), nullable=True))
        batch_op.create_index("ix_outbox_message_sid", ["message_sid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_sid")
        for column in ("delivery", "message_sid", "ref", "kind"):
            batch_op.drop_column(column)
