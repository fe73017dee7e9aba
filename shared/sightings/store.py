"""Reading and writing sightings rows: the service writes, the web reads, both through these functions.

Listing is newest first with keyset pagination on (start, id): the cursor
is the last row's pair, so a page is one index range scan however deep it
goes, and rows added meanwhile never shift a page (unlike OFFSET).
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, func, insert, or_, select, update

from shared.bus.schema import UNKNOWN
from shared.sightings.tables import sightings

MAX_PAGE = 500
"""The most rows one page may ask for."""
ROW_COLUMNS = [column for column in sightings.c if column.name != "encodings"]
"""What a sighting is read as: its encodings only ever go to the sightings service (visitor_store.py)."""


class BadCursor(ValueError):
    """A cursor this server did not hand out (or one mangled on the way)."""


@dataclass(frozen=True)
class SightingRow:
    """One sighting as stored."""

    id: int
    camera: str
    track_id: int
    name: str
    start: float
    end: float
    confidence: float
    frames: int
    face_path: str | None = None
    snapshot_path: str | None = None
    visitor: int | None = None


@dataclass(frozen=True)
class Filter:
    """What a listing is narrowed to; None leaves a field free. ``since`` and ``until`` keep the sightings that
    overlap the window: seen at or after ``since``, begun at or before ``until``."""

    camera: str | None = None
    name: str | None = None
    since: float | None = None
    until: float | None = None
    visitor: int | None = None


def encode_cursor(key: float, row_id: int) -> str:
    """The opaque cursor after the row with this sort key (exactly, as repr keeps a float) and id."""
    return base64.urlsafe_b64encode(f"{key!r}:{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    """(sort key, id) of a cursor; BadCursor when it is not one."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        start, row_id = text.split(":")
        return float(start), int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("not a cursor this server gave: pass next_cursor as it was") from None


def _row(mapping: object) -> SightingRow:
    values = dict(mapping)  # type: ignore[call-overload]
    return SightingRow(
        id=values["id"],
        camera=values["camera"],
        track_id=values["track_id"],
        name=values["name"],
        start=values["start_ts"],
        end=values["end_ts"],
        confidence=values["confidence"],
        frames=values["frames"],
        face_path=values["face_path"],
        snapshot_path=values["snapshot_path"],
        visitor=values["visitor"],
    )


def add(engine: Engine, camera: str, track_id: int, name: str, start: float, confidence: float) -> int:
    """Store a new sighting seen on one frame; its id."""
    with engine.begin() as connection:
        added = connection.execute(
            insert(sightings)
            .values(
                camera=camera,
                track_id=track_id,
                name=name,
                start_ts=start,
                end_ts=start,
                confidence=confidence,
                frames=1,
            )
            .returning(sightings.c.id)
        )
        return int(added.scalar_one())


def save(engine: Engine, row_id: int, **values: object) -> None:
    """Change some columns of one sighting (names as in the table: end_ts, frames, name, face_path...)."""
    with engine.begin() as connection:
        connection.execute(update(sightings).where(sightings.c.id == row_id).values(**values))


def get(engine: Engine, row_id: int) -> SightingRow | None:
    """One sighting, or None."""
    with engine.connect() as connection:
        found = connection.execute(select(*ROW_COLUMNS).where(sightings.c.id == row_id)).mappings().first()
    return _row(found) if found is not None else None


def page(
    engine: Engine, narrowed: Filter, limit: int, cursor: str | None = None
) -> tuple[list[SightingRow], str | None]:
    """Up to ``limit`` sightings newest first (by start, then id), after ``cursor``; and the next page's cursor
    (None on the last page)."""
    query = select(*ROW_COLUMNS)
    if narrowed.camera is not None:
        query = query.where(sightings.c.camera == narrowed.camera)
    if narrowed.name is not None:
        query = query.where(sightings.c.name == narrowed.name)
    if narrowed.since is not None:
        query = query.where(sightings.c.end_ts >= narrowed.since)
    if narrowed.until is not None:
        query = query.where(sightings.c.start_ts <= narrowed.until)
    if narrowed.visitor is not None:
        query = query.where(sightings.c.visitor == narrowed.visitor)
    if cursor is not None:
        start, row_id = decode_cursor(cursor)
        query = query.where(
            or_(sightings.c.start_ts < start, and_(sightings.c.start_ts == start, sightings.c.id < row_id))
        )
    query = query.order_by(sightings.c.start_ts.desc(), sightings.c.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = [_row(found) for found in connection.execute(query).mappings()]
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].start, rows[limit - 1].id)
    return rows, None


@dataclass(frozen=True)
class NameSeen:
    """When and where one person was seen, over all their kept sightings."""

    name: str
    first_seen: float
    last_seen: float
    sightings: int
    cameras: list[str] = field(default_factory=list)


def names_seen(engine: Engine) -> list[NameSeen]:
    """Every person (not strangers) with a kept sighting: first and last seen, how often, on which cameras; last seen
    first. Two grouped queries over the name index, however many sightings there are."""
    named = sightings.c.name != UNKNOWN
    figures = (
        select(sightings.c.name, func.min(sightings.c.start_ts), func.max(sightings.c.end_ts), func.count())
        .where(named)
        .group_by(sightings.c.name)
    )
    where = select(sightings.c.name, sightings.c.camera).where(named).group_by(sightings.c.name, sightings.c.camera)
    cameras: dict[str, list[str]] = defaultdict(list)
    with engine.connect() as connection:
        rows = connection.execute(figures).all()
        for name, camera in connection.execute(where.order_by(sightings.c.camera)):
            cameras[name].append(camera)
    found = [NameSeen(name, first, last, count, cameras[name]) for name, first, last, count in rows]
    return sorted(found, key=lambda seen: (-seen.last_seen, seen.name))
