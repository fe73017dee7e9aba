"""The visitors migration (0002) on SQLite and a real PostgreSQL: from an empty database, and from one the first
schema (0001) made and filled, whose rows must come through whole; and back down, ids still never reused."""

from __future__ import annotations

import numpy as np
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from shared.faces.visitors import to_bytes
from shared.sightings import store, visitor_store
from shared.sightings.database import downgrade, upgrade

OLD_COLUMNS = "id, camera, track_id, name, start_ts, end_ts, confidence, frames, face_path, snapshot_path"


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def old_rows(engine: Engine) -> list[tuple]:
    """Every row in the first schema's columns, as that schema's code would read them."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT {OLD_COLUMNS} FROM sightings ORDER BY id"))]


def fill_first_schema(engine: Engine) -> list[tuple]:
    """A database at 0001 with a few sightings, one with pictures; its rows."""
    upgrade(engine, "0001")
    with engine.begin() as connection:
        for track, (name, start) in enumerate([("Ada", 100.0), ("Unknown", 200.5), ("Unknown", 300.25)]):
            connection.execute(
                text(
                    "INSERT INTO sightings (camera, track_id, name, start_ts, end_ts, confidence, frames) "
                    "VALUES ('door', :track, :name, :start, :end, 80.0, 12)"
                ),
                {"track": track, "name": name, "start": start, "end": start + 9.5},
            )
        connection.execute(
            text("UPDATE sightings SET face_path = '1970-01-01/1-face.jpg', snapshot_path = 'x.jpg' WHERE id = 1")
        )
    return old_rows(engine)


def test_an_empty_database_upgrades_to_visitors(empty_database: Engine) -> None:
    upgrade(empty_database)
    assert revision(empty_database) == "0002"
    assert {"sightings", "visitors"} <= set(inspect(empty_database).get_table_names())
    indexes = {index["name"] for index in inspect(empty_database).get_indexes("sightings")}
    assert "ix_sightings_visitor_start" in indexes


def test_a_database_of_the_first_schema_keeps_every_row(empty_database: Engine) -> None:
    before = fill_first_schema(empty_database)
    assert revision(empty_database) == "0001"
    upgrade(empty_database)
    assert revision(empty_database) == "0002"
    assert old_rows(empty_database) == before, "the upgrade changed a row"
    rows = {row.id: row for row in store.page(empty_database, store.Filter(), 10)[0]}
    assert [rows[row_id].visitor for row_id in (1, 2, 3)] == [None, None, None]
    assert rows[1].face_path == "1970-01-01/1-face.jpg"
    # the new schema works on the old rows: a stranger of the old days becomes a visitor, and is seen again
    visitor = visitor_store.create(empty_database, 2, to_bytes(np.ones((2, 128))))
    visitor_store.join(empty_database, 3, visitor, to_bytes(np.ones((1, 128))))
    found = visitor_store.get(empty_database, visitor)
    assert found is not None and (found.first_seen, found.last_seen, found.sightings) == (200.5, 309.75, 2)
    assert store.add(empty_database, "door", 9, "Unknown", 400.0, 70.0) == 4


def test_down_to_the_first_schema_and_up_again(empty_database: Engine) -> None:
    fill_first_schema(empty_database)
    upgrade(empty_database)
    visitor_store.create(empty_database, 3, to_bytes(np.zeros((1, 128))))
    before = old_rows(empty_database)
    downgrade(empty_database, "0001")
    assert revision(empty_database) == "0001"
    assert "visitors" not in inspect(empty_database).get_table_names()
    assert {column["name"] for column in inspect(empty_database).get_columns("sightings")} == {
        name.strip() for name in OLD_COLUMNS.split(",")
    }
    assert old_rows(empty_database) == before, "the downgrade changed a row"
    assert {index["name"] for index in inspect(empty_database).get_indexes("sightings")} == {
        "ix_sightings_start_id",
        "ix_sightings_camera_start",
        "ix_sightings_name_start",
        "ix_sightings_end",
    }
    with empty_database.begin() as connection:  # the newest row goes: its id must not come back
        connection.execute(text("DELETE FROM sightings WHERE id = 3"))
    upgrade(empty_database)
    assert store.add(empty_database, "door", 9, "Unknown", 400.0, 70.0) == 4, "an id was given twice"
