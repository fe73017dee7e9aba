"""Reading and writing visitors: strangers recognised across sightings, and which sightings are whose.

The sightings service makes and joins visitors (one writer, one loop); the web
reads them and names them. A visitor's figures (first and last seen, how many
sightings) are always recomputed from the sightings that are still kept
(:func:`refresh`), never counted up, so a sighting that turns out to be
someone known, or one that retention deletes, leaves nothing stale behind; a
visitor with no sighting left is deleted with it. Listing is newest last seen
first, with the same keyset cursors as the sightings (store.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, exists, func, insert, or_, select, update

from shared.bus.schema import UNKNOWN
from shared.faces.visitors import from_bytes
from shared.sightings.store import decode_cursor, encode_cursor
from shared.sightings.tables import sightings, visitors

BEST_FACES = 5
"""A visitor's face crops enrolled when they are named: a few views make a person (three photos is what naming is
calibrated for), and the most typical ones first, so a sighting wrongly given their id is the last one taken."""


@dataclass(frozen=True)
class VisitorRow:
    """One visitor as stored, with the cameras their kept sightings were on."""

    id: int
    first_seen: float
    last_seen: float
    sightings: int
    name: str | None
    cameras: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VisitorFilter:
    """What a listing of visitors is narrowed to; None leaves a field free."""

    named: bool | None = None
    since: float | None = None
    """Seen at or after this time (their last sighting ended then or later)."""
    camera: str | None = None
    """Seen on this camera (in a sighting still kept)."""


@dataclass(frozen=True)
class VisitorFace:
    """A sighting of a visitor, its face crop if one is kept, and its encodings (to tell how typical it is)."""

    sighting: int
    face_path: str | None
    encodings: bytes | None


def _same_visitor() -> ColumnElement[bool]:
    return sightings.c.visitor == visitors.c.id


def refresh(connection: Connection, visitor_ids: Iterable[int]) -> None:
    """Recompute these visitors' figures from their kept sightings; delete those with none left."""
    ids = sorted(set(visitor_ids))
    if not ids:
        return
    mine = _same_visitor()
    connection.execute(delete(visitors).where(and_(visitors.c.id.in_(ids), ~exists().where(mine))))
    connection.execute(
        update(visitors)
        .where(visitors.c.id.in_(ids))
        .values(
            first_seen=select(func.min(sightings.c.start_ts)).where(mine).scalar_subquery(),
            last_seen=select(func.max(sightings.c.end_ts)).where(mine).scalar_subquery(),
            sightings=select(func.count()).where(mine).scalar_subquery(),
        )
    )


def create(engine: Engine, row_id: int, encodings: bytes) -> int:
    """A new visitor, whose first sighting is ``row_id`` (kept with its encodings); their id."""
    with engine.begin() as connection:
        start, end = connection.execute(
            select(sightings.c.start_ts, sightings.c.end_ts).where(sightings.c.id == row_id)
        ).one()
        made = connection.execute(
            insert(visitors).values(first_seen=start, last_seen=end, sightings=1).returning(visitors.c.id)
        )
        visitor = int(made.scalar_one())
        connection.execute(
            update(sightings).where(sightings.c.id == row_id).values(visitor=visitor, encodings=encodings)
        )
    return visitor


def join(engine: Engine, row_id: int, visitor: int, encodings: bytes) -> bool:
    """Sighting ``row_id`` is visitor ``visitor`` seen again; False (nothing changed) when that visitor is no stranger
    any more: someone named or forgot them meanwhile (the web does, while the service matches from memory)."""
    stranger = exists().where(and_(visitors.c.id == visitor, visitors.c.name.is_(None)))
    with engine.begin() as connection:
        joined = connection.execute(
            update(sightings)
            .where(and_(sightings.c.id == row_id, stranger))
            .values(visitor=visitor, encodings=encodings)
        )
        if not joined.rowcount:
            return False
        refresh(connection, [visitor])
    return True


def leave(engine: Engine, row_id: int) -> None:
    """Sighting ``row_id`` is no visitor's after all (it was someone known): its encodings go, its visitor's figures
    are recomputed (and a visitor it alone made is deleted)."""
    with engine.begin() as connection:
        visitor = connection.execute(select(sightings.c.visitor).where(sightings.c.id == row_id)).scalar()
        connection.execute(update(sightings).where(sightings.c.id == row_id).values(visitor=None, encodings=None))
        if visitor is not None:
            refresh(connection, [visitor])


def seen_again(engine: Engine, visitor: int) -> None:
    """A sighting of this visitor went on: their last seen (and the rest) from the sightings as saved now."""
    with engine.begin() as connection:
        refresh(connection, [visitor])


def unnamed_encodings(engine: Engine, only: Iterable[int] | None = None) -> list[tuple[int, bytes]]:
    """(visitor, encodings) of every kept sighting of a visitor nobody named (or of those of ``only``), oldest
    first: what new sightings are compared with."""
    query = (
        select(sightings.c.visitor, sightings.c.encodings)
        .join(visitors, _same_visitor())
        .where(and_(visitors.c.name.is_(None), sightings.c.encodings.is_not(None)))
        .order_by(sightings.c.start_ts, sightings.c.id)
    )
    if only is not None:
        query = query.where(visitors.c.id.in_(sorted(set(only))))
    with engine.connect() as connection:
        return [(int(visitor), bytes(blob)) for visitor, blob in connection.execute(query)]


def named_ids(engine: Engine) -> set[int]:
    """The visitors someone has named (no longer strangers: new sightings are not matched with them)."""
    with engine.connect() as connection:
        return set(connection.execute(select(visitors.c.id).where(visitors.c.name.is_not(None))).scalars())


def _rows(connection: Connection, found: list[VisitorRow]) -> list[VisitorRow]:
    """The rows with their cameras filled in (one query for the whole page)."""
    if not found:
        return found
    cameras: dict[int, list[str]] = defaultdict(list)
    query = (
        select(sightings.c.visitor, sightings.c.camera)
        .where(sightings.c.visitor.in_([row.id for row in found]))
        .group_by(sightings.c.visitor, sightings.c.camera)
        .order_by(sightings.c.camera)
    )
    for visitor, camera in connection.execute(query):
        cameras[visitor].append(camera)
    return [replace(row, cameras=cameras[row.id]) for row in found]


def _row(values: object) -> VisitorRow:
    mapping = dict(values)  # type: ignore[call-overload]
    return VisitorRow(
        id=mapping["id"],
        first_seen=mapping["first_seen"],
        last_seen=mapping["last_seen"],
        sightings=mapping["sightings"],
        name=mapping["name"],
    )


def get(engine: Engine, visitor: int) -> VisitorRow | None:
    """One visitor, or None."""
    with engine.connect() as connection:
        found = connection.execute(select(visitors).where(visitors.c.id == visitor)).mappings().first()
        return _rows(connection, [_row(found)])[0] if found is not None else None


def page(
    engine: Engine, narrowed: VisitorFilter, limit: int, cursor: str | None = None
) -> tuple[list[VisitorRow], str | None]:
    """Up to ``limit`` visitors, latest seen first (by last seen, then id), after ``cursor``; and the next page's
    cursor (None on the last page)."""
    query = select(visitors)
    if narrowed.named is not None:
        query = query.where(visitors.c.name.is_not(None) if narrowed.named else visitors.c.name.is_(None))
    if narrowed.since is not None:
        query = query.where(visitors.c.last_seen >= narrowed.since)
    if narrowed.camera is not None:
        query = query.where(exists().where(and_(_same_visitor(), sightings.c.camera == narrowed.camera)))
    if cursor is not None:
        last_seen, visitor = decode_cursor(cursor)
        query = query.where(
            or_(visitors.c.last_seen < last_seen, and_(visitors.c.last_seen == last_seen, visitors.c.id < visitor))
        )
    query = query.order_by(visitors.c.last_seen.desc(), visitors.c.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = _rows(connection, [_row(found) for found in connection.execute(query).mappings()])
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].last_seen, rows[limit - 1].id)
    return rows, None


def faces(engine: Engine, visitor: int) -> list[VisitorFace]:
    """Every kept sighting of the visitor, newest first, with its crop (if any) and encodings."""
    query = (
        select(sightings.c.id, sightings.c.face_path, sightings.c.encodings)
        .where(sightings.c.visitor == visitor)
        .order_by(sightings.c.start_ts.desc(), sightings.c.id.desc())
    )
    with engine.connect() as connection:
        return [
            VisitorFace(row_id, path, None if blob is None else bytes(blob))
            for row_id, path, blob in connection.execute(query)
        ]


def best_faces(engine: Engine, visitor: int, count: int = BEST_FACES) -> list[VisitorFace]:
    """Up to ``count`` of the visitor's sightings with a face crop, the most typical first: those whose encodings
    are nearest the median of all the visitor's encodings (a median, so one sighting wrongly given their id
    does not pull it; those without encodings last, newest first)."""
    found = faces(engine, visitor)
    encoded = [from_bytes(face.encodings) for face in found]
    cropped = [position for position, face in enumerate(found) if face.face_path]
    if not any(len(encodings) for encodings in encoded):
        return [found[position] for position in cropped[:count]]
    centre = np.median(np.concatenate([encodings for encodings in encoded if len(encodings)]), axis=0)

    def distance(position: int) -> float:
        encodings = encoded[position]
        return float(np.linalg.norm(encodings.mean(axis=0) - centre)) if len(encodings) else float("inf")

    order = sorted(cropped, key=distance)  # stable: ties stay newest first
    return [found[position] for position in order[:count]]


def forget(engine: Engine, visitor: int) -> tuple[int, list[str]]:
    """Forget a visitor: their row, and their sightings' encodings; the sightings stay (when and where), without a
    visitor. How many sightings were theirs, and the pictures of those still Unknown (their paths, cleared here:
    the caller deletes the files)."""
    theirs = sightings.c.visitor == visitor
    with engine.begin() as connection:
        stranger_pictures = connection.execute(
            select(sightings.c.face_path, sightings.c.snapshot_path).where(and_(theirs, sightings.c.name == UNKNOWN))
        ).all()
        connection.execute(
            update(sightings)
            .where(and_(theirs, sightings.c.name == UNKNOWN))
            .values(face_path=None, snapshot_path=None)
        )
        unlinked = connection.execute(update(sightings).where(theirs).values(visitor=None, encodings=None))
        connection.execute(delete(visitors).where(visitors.c.id == visitor))
    paths = [path for row in stranger_pictures for path in row if path]
    return int(unlinked.rowcount), paths


def name(engine: Engine, visitor: int, person: str) -> int:
    """Name a visitor: they are ``person``, and so are their sightings kept as Unknown; how many were renamed."""
    with engine.begin() as connection:
        connection.execute(update(visitors).where(visitors.c.id == visitor).values(name=person))
        renamed = connection.execute(
            update(sightings)
            .where(and_(sightings.c.visitor == visitor, sightings.c.name == UNKNOWN))
            .values(name=person)
        )
        return int(renamed.rowcount)
