"""The sightings table: one row per appearance of a tracked face on a camera.

Revision ID: 0001
Revises:
Create Date: issue 13, the first cut
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column(
            "track_id", sa.Integer(), nullable=False, comment="The tracker's id of the face (restarts with the broker)"
        ),
        sa.Column("name", sa.String(200), nullable=False, comment="The person, or 'Unknown'"),
        sa.Column(
            "start_ts", sa.Float(), nullable=False, comment="Capture time of the first frame it was on, Unix seconds"
        ),
        sa.Column("end_ts", sa.Float(), nullable=False, comment="Capture time of the last frame it was on so far"),
        sa.Column("confidence", sa.Float(), nullable=False, comment="Best confidence (%) of the name"),
        sa.Column("frames", sa.Integer(), nullable=False, comment="Analysed frames it was on"),
        sa.Column("face_path", sa.String(255), nullable=True, comment="Best crop, relative to DATA_DIR/sightings"),
        sa.Column("snapshot_path", sa.String(255), nullable=True, comment="The whole frame of the best crop"),
        sqlite_autoincrement=True,  # ids never reused, even after retention deleted the newest rows
    )
    op.create_index("ix_sightings_start_id", "sightings", ["start_ts", "id"])
    op.create_index("ix_sightings_camera_start", "sightings", ["camera", "start_ts"])
    op.create_index("ix_sightings_name_start", "sightings", ["name", "start_ts"])
    op.create_index("ix_sightings_end", "sightings", ["end_ts"])


def downgrade() -> None:
    op.drop_table("sightings")  # its indexes go with it
