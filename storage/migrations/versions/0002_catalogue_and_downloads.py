"""catalogue and downloads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 13:28:15.326494
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=4), nullable=False),
        sa.Column("pub_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("issn", sa.String(length=32), nullable=True),
        sa.Column("kat_no", sa.String(length=32), nullable=True),
        sa.Column("pub_no", sa.String(length=32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("sch_date", sa.Date(), nullable=True),
        sa.Column("rl_date", sa.Date(), nullable=True),
        sa.Column("updt_date", sa.Date(), nullable=True),
        sa.Column("cover_url", sa.Text(), nullable=True),
        sa.Column("pdf_url", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("local_file", sa.String(length=300), nullable=True),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=120), nullable=True),
        sa.Column("printed_copy", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("provenance", sa.String(length=60), nullable=True),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain", "pub_id"),
    )
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publications_domain"), ["domain"], unique=False)

    op.create_table(
        "downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("download_id", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("office_code", sa.String(length=4), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("download_id"),
    )
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_downloads_publication_id"), ["publication_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_downloads_visitor_id"), ["visitor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_downloads_visitor_id"))
        batch_op.drop_index(batch_op.f("ix_downloads_publication_id"))

    op.drop_table("downloads")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publications_domain"))

    op.drop_table("publications")
