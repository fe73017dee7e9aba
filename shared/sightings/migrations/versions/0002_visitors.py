"""Visitors: strangers recognised across sightings; each Unknown sighting's visitor and face encodings.

Revision ID: 0002
Revises: 0001
Create Date: issue 13, returning strangers

Adds two nullable columns to ``sightings`` (a plain ``ADD COLUMN`` on every
database: existing rows keep everything and get no visitor) and the
``visitors`` table. The downgrade drops them again; on SQLite that copies the
table, so it says again that ids are never reused (AUTOINCREMENT).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visitors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "first_seen", sa.Float(), nullable=False, comment="Start of their first sighting still kept, Unix seconds"
        ),
        sa.Column("last_seen", sa.Float(), nullable=False, comment="End of their latest sighting so far"),
        sa.Column("sightings", sa.Integer(), nullable=False, comment="Their sightings still kept"),
        sa.Column("name", sa.String(200), nullable=True, comment="The person they were named as, if they were"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_visitors_last_id", "visitors", ["last_seen", "id"])
    op.add_column(
        "sightings",
        sa.Column("visitor", sa.Integer(), nullable=True, comment="The visitor an Unknown sighting was recognised as"),
    )
    op.add_column(
        "sightings",
        sa.Column(
            "encodings",
            sa.LargeBinary(),
            nullable=True,
            comment="A visitor's sighting: its face encodings, float32 x 128",
        ),
    )
    op.create_index("ix_sightings_visitor_start", "sightings", ["visitor", "start_ts"])


def downgrade() -> None:
    op.drop_index("ix_sightings_visitor_start", table_name="sightings")
    with op.batch_alter_table("sightings", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("encodings")
        batch.drop_column("visitor")
    op.drop_table("visitors")
