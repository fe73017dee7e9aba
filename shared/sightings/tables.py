"""The sightings table, in SQLAlchemy Core: one row per appearance of a tracked face on a camera.

Times are Unix seconds (floats, as everywhere on the bus); image paths are
relative to ``DATA_DIR/sightings`` so the data folder can move. Ids are never reused (SQLite
AUTOINCREMENT; PostgreSQL's sequences never go back): a URL or a bus message naming a sighting never comes to
mean another. A change here
needs a new migration in ``migrations/versions`` (tests/unit/test_sightings_migrations.py
compares the two).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table

metadata = MetaData()

sightings = Table(
    "sightings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera", String(64), nullable=False),
    Column("track_id", Integer, nullable=False, comment="The tracker's id of the face (restarts with the broker)"),
    Column("name", String(200), nullable=False, comment="The person, or 'Unknown'"),
    Column("start_ts", Float, nullable=False, comment="Capture time of the first frame it was on, Unix seconds"),
    Column("end_ts", Float, nullable=False, comment="Capture time of the last frame it was on so far"),
    Column("confidence", Float, nullable=False, comment="Best confidence (%) of the name"),
    Column("frames", Integer, nullable=False, comment="Analysed frames it was on"),
    Column("face_path", String(255), nullable=True, comment="Best crop, relative to DATA_DIR/sightings"),
    Column("snapshot_path", String(255), nullable=True, comment="The whole frame of the best crop"),
    Index("ix_sightings_start_id", "start_ts", "id"),
    Index("ix_sightings_camera_start", "camera", "start_ts"),
    Index("ix_sightings_name_start", "name", "start_ts"),
    Index("ix_sightings_end", "end_ts"),
    sqlite_autoincrement=True,  # an id is never given twice, even after retention deleted the newest rows
)
