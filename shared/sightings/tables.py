"""The sightings tables, in SQLAlchemy Core: one row per appearance of a tracked face on a camera, and the visitors
(strangers recognised across sightings) those of Unknown faces belong to.

Times are Unix seconds (floats, as everywhere on the bus); image paths are
relative to ``DATA_DIR/sightings`` so the data folder can move. Ids are never reused (SQLite
AUTOINCREMENT; PostgreSQL's sequences never go back): a URL or a bus message naming a sighting or a visitor never
comes to mean another. ``sightings.visitor`` has no foreign key: SQLite adds a column with one only by copying the
table, and the sightings service, the one writer of visitors, keeps the two consistent
(shared/sightings/visitor_store.py). A change here needs a new migration in ``migrations/versions``
(tests/unit/test_sightings_storage.py compares the two).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, MetaData, String, Table

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
    Column("visitor", Integer, nullable=True, comment="The visitor an Unknown sighting was recognised as"),
    Column("encodings", LargeBinary, nullable=True, comment="A visitor's sighting: its face encodings, float32 x 128"),
    Index("ix_sightings_start_id", "start_ts", "id"),
    Index("ix_sightings_camera_start", "camera", "start_ts"),
    Index("ix_sightings_name_start", "name", "start_ts"),
    Index("ix_sightings_end", "end_ts"),
    Index("ix_sightings_visitor_start", "visitor", "start_ts"),
    sqlite_autoincrement=True,  # an id is never given twice, even after retention deleted the newest rows
)

visitors = Table(
    "visitors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("first_seen", Float, nullable=False, comment="Start of their first sighting still kept, Unix seconds"),
    Column("last_seen", Float, nullable=False, comment="End of their latest sighting so far"),
    Column("sightings", Integer, nullable=False, comment="Their sightings still kept"),
    Column("name", String(200), nullable=True, comment="The person they were named as, if they were"),
    Index("ix_visitors_last_id", "last_seen", "id"),
    sqlite_autoincrement=True,
)
