"""Deleting one sighting (the Review page's "delete"): its row, its visitor's figures, and which pictures to delete.

The sightings service writes sightings while they are open; the web deletes
only those it is done with (shared/sightings/closing.py settled), as it names
and forgets visitors, in one transaction with the visitor's recount
(visitor_store.refresh: a visitor whose last sighting this was goes too).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, select

from shared.sightings import visitor_store
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
