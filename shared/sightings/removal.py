"""Deleting sightings: one (the Review page's "delete") or every one of a person (deleting a person, if asked);
their rows, their visitors' figures, and their pictures.

The sightings service writes sightings while they are open; the web deletes
only those it is done with (shared/sightings/closing.py settled), as it names
and forgets visitors, in one transaction with the visitor's recount
(visitor_store.refresh: a visitor whose last sighting this was goes too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, and_, delete, func, select

from shared.sightings import visitor_store
from shared.sightings.database import picture_path
from shared.sightings.tables import sightings


@dataclass(frozen=True)
class Removed:
    """What deleting a sighting took: its pictures' paths (relative to DATA_DIR/sightings) for the caller to
    delete, and the visitor it belonged to, if any."""

    pictures: list[str]
    visitor: int | None


def remove(engine: Engine, row_id: int) -> Removed | None:
    """Delete the sighting; None when there is no such row."""
    table = sightings.c
    with engine.begin() as connection:
        found = connection.execute(
            select(table.face_path, table.snapshot_path, table.visitor).where(table.id == row_id)
        ).first()
        if found is None:
            return None
        face, snapshot, visitor = found
        connection.execute(delete(sightings).where(table.id == row_id))
        if visitor is not None:
            visitor_store.refresh(connection, [visitor])
    return Removed([path for path in (face, snapshot) if path], visitor)


BATCH = 500
"""Rows deleted per transaction: a person seen for months never holds the writer's lock for long."""


@dataclass(frozen=True)
class RemovedOfName:
    """What deleting a person's sightings took."""

    sightings: int
    pictures: int
    still_open: int
    """Their sightings left because the sightings service may still write to them (in view, or just left)."""


def remove_named(engine: Engine, name: str, pictures_root: Path, settled_before: float) -> RemovedOfName:
    """Delete every sighting named ``name`` last seen at or before ``settled_before`` (closing.settled_before), in
    batches of :data:`BATCH`, with their pictures under ``pictures_root``; those still open are left and counted."""
    table = sightings.c
    deleted = pictures = 0
    while True:
        with engine.begin() as connection:
            batch = connection.execute(
                select(table.id, table.face_path, table.snapshot_path, table.visitor)
                .where(and_(table.name == name, table.end_ts <= settled_before))
                .limit(BATCH)
            ).all()
            if not batch:
                break
            connection.execute(delete(sightings).where(table.id.in_([row.id for row in batch])))
            visitor_store.refresh(connection, [row.visitor for row in batch if row.visitor is not None])
        pictures += delete_pictures(pictures_root, [path for row in batch for path in (row[1], row[2]) if path])
        deleted += len(batch)
    return RemovedOfName(deleted, pictures, count_named(engine, name))


def count_named(engine: Engine, name: str) -> int:
    """How many sightings are kept under this name."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).where(sightings.c.name == name)).scalar_one())


def delete_pictures(root: Path, relatives: Iterable[str]) -> int:
    """Delete these pictures (paths relative to DATA_DIR/sightings, never anything outside it); how many were there."""
    deleted = 0
    for relative in relatives:
        path = picture_path(root, relative)
        if path is not None:
            try:
                path.unlink()
                deleted += 1
            except FileNotFoundError:
                pass  # retention was first
    return deleted
