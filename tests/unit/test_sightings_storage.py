"""The sightings storage on SQLite and on a real PostgreSQL: migrations, pages, and retention."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from services.sightings.images import day_folder
from services.sightings.retention import DAY, enforce
from shared.sightings import store
from shared.sightings.database import downgrade, upgrade
from shared.sightings.tables import metadata

COLUMNS = {
    "id",
    "camera",
    "track_id",
    "name",
    "start_ts",
    "end_ts",
    "confidence",
    "frames",
    "face_path",
    "snapshot_path",
    "visitor",
    "encodings",
}


def test_an_empty_database_upgrades_to_the_tables_the_code_uses(empty_database: Engine) -> None:
    upgrade(empty_database)
    assert {column["name"] for column in inspect(empty_database).get_columns("sightings")} == COLUMNS
    assert {column["name"] for column in inspect(empty_database).get_columns("visitors")} == {
        "id",
        "first_seen",
        "last_seen",
        "sightings",
        "name",
    }
    with empty_database.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == [], "shared/sightings/tables.py and the migrations disagree: write a migration"
    upgrade(empty_database)  # the service upgrades at every start: a database at the head stays as it is


def test_downgrade_and_upgrade_round_trip(empty_database: Engine) -> None:
    upgrade(empty_database)
    store.add(empty_database, "door", 1, "Ada", 100.0, 90.0)
    downgrade(empty_database, "base")
    assert not {"sightings", "visitors"} & set(inspect(empty_database).get_table_names())
    upgrade(empty_database)
    assert store.page(empty_database, store.Filter(), 10) == ([], None)


def test_pages_are_newest_first_and_follow_the_cursor(empty_database: Engine) -> None:
    upgrade(empty_database)
    starts = [100.0, 300.0, 200.0, 300.0, 50.5, 300.0, 400.25]  # three at the same start: the id breaks the tie
    ids = [
        store.add(empty_database, "door" if i % 2 else "hall", i, "Ada", start, 80.0) for i, start in enumerate(starts)
    ]
    expected = sorted(zip(starts, ids), key=lambda pair: (-pair[0], -pair[1]))
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = store.page(empty_database, store.Filter(), 3, cursor)
        seen += [(row.start, row.id) for row in rows]
        pages += 1
        if cursor is None:
            break
    assert seen == expected and pages == 3
    # a row added meanwhile, newer than everything, shifts no later page (keyset, not OFFSET)
    first, cursor = store.page(empty_database, store.Filter(), 3)
    store.add(empty_database, "door", 99, "Ada", 999.0, 80.0)
    second, _ = store.page(empty_database, store.Filter(), 3, cursor)
    assert [row.id for row in first + second] == [row_id for _, row_id in expected[:6]]
    hall = store.page(empty_database, store.Filter(camera="hall", since=100.0, until=300.0), 10)[0]
    assert [(row.camera, row.start) for row in hall] == [("hall", 200.0), ("hall", 100.0)]  # 50.5 and 400.25 out
    with pytest.raises(store.BadCursor):
        store.page(empty_database, store.Filter(), 3, "not-a-cursor")


def _picture(root: Path, relative: str) -> str:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_bytes(b"\xff\xd8 a face")
    return relative


def test_retention_deletes_old_rows_and_strangers_pictures_sooner(empty_database: Engine, tmp_path: Path) -> None:
    upgrade(empty_database)
    root, now = tmp_path / "sightings", time.time()

    def sighting(name: str, days_ago: float) -> int:
        start = now - days_ago * DAY
        row_id = store.add(empty_database, "door", 1, name, start, 90.0)
        folder = day_folder(start)
        store.save(
            empty_database,
            row_id,
            end_ts=start + 10,
            face_path=_picture(root, f"{folder}/{row_id}-face.jpg"),
            snapshot_path=_picture(root, f"{folder}/{row_id}-snapshot.jpg"),
        )
        return row_id

    old_ada, old_stranger = sighting("Ada", 31), sighting("Unknown", 40)
    ada, stranger, new_stranger = sighting("Ada", 8), sighting("Unknown", 8), sighting("Unknown", 1)
    stray = _picture(root, f"{day_folder(now - 45 * DAY)}/lost-face.jpg")  # a picture whose row never was

    swept = enforce(empty_database, root, now, retain_days=30, retain_unknown_days=7)

    assert store.get(empty_database, old_ada) is None and store.get(empty_database, old_stranger) is None
    kept = {row.id: row for row in store.page(empty_database, store.Filter(), 10)[0]}
    assert set(kept) == {ada, stranger, new_stranger}
    assert kept[ada].face_path and (root / kept[ada].face_path).is_file(), "a known person's pictures stay 30 days"
    assert kept[stranger].face_path is None and kept[stranger].snapshot_path is None, "a stranger's go after 7"
    assert not list(root.glob(f"*/{stranger}-*.jpg"))
    assert kept[new_stranger].face_path and (root / kept[new_stranger].face_path).is_file()
    assert not (root / stray).exists() and not (root / stray).parent.exists()
    assert (swept.rows, swept.pictures) == (2, 6)
    assert enforce(empty_database, root, now, retain_days=30, retain_unknown_days=7).rows == 0
    newest = max(old_ada, old_stranger, ada, stranger, new_stranger)
    store.save(empty_database, new_stranger, end_ts=now - 40 * DAY)  # the newest row goes too
    enforce(empty_database, root, now, retain_days=30, retain_unknown_days=7)
    assert store.add(empty_database, "door", 2, "Ada", now, 90.0) > newest, "an id is never given twice"
