"""How long sightings are kept: rows and pictures RETAIN_DAYS, strangers' pictures only RETAIN_UNKNOWN_DAYS.

A visitor's face encodings live in their sightings' rows, so they go with the
rows; a visitor with no sighting left goes too (visitor_store.refresh).

A stranger's face is the least wanted thing to keep (they never agreed to be
enrolled), so an Unknown sighting keeps its row (when, where, how long) but
loses its pictures sooner. Run by the sightings service at its start and every
:data:`EVERY_S`. Day folders older than RETAIN_DAYS (and a day) go whole, so a picture whose
row was lost (a crash between the two writes) does not outlive the limit.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, and_, delete, or_, select, update

from services.sightings.images import day_folder
from shared.bus.schema import UNKNOWN
from shared.sightings import visitor_store
from shared.sightings.tables import sightings

log = logging.getLogger(__name__)

EVERY_S = 3600.0
"""Retention runs hourly: limits are counted in days, so an hour late is close enough and costs nothing."""
DAY = 86400.0
BATCH = 500
"""Rows handled per statement: a long-stopped installation catching up never builds one huge IN list."""
DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Swept:
    """What one run removed."""

    rows: int = 0
    pictures: int = 0
    folders: int = 0
    visitors: set[int] = field(default_factory=set)
    """The visitors some of whose sightings went (their figures were recomputed; those with none left, deleted)."""


def _unlink(root: Path, relative: str | None) -> int:
    if not relative:
        return 0
    try:
        (root / relative).unlink()
    except FileNotFoundError:
        return 0
    return 1


def enforce(engine: Engine, root: Path, now: float, retain_days: float, retain_unknown_days: float) -> Swept:
    """Delete what is past its limit: rows and their pictures, strangers' pictures, old day folders."""
    rows = pictures = folders = 0
    touched: set[int] = set()
    cutoff = now - retain_days * DAY
    unknown_cutoff = now - retain_unknown_days * DAY
    table = sightings.c
    while True:
        with engine.begin() as connection:
            old = connection.execute(
                select(table.id, table.face_path, table.snapshot_path, table.visitor)
                .where(table.end_ts < cutoff)
                .limit(BATCH)
            ).all()
            if not old:
                break
            for _, face, snapshot, _ in old:
                pictures += _unlink(root, face) + _unlink(root, snapshot)
            connection.execute(delete(sightings).where(table.id.in_([row_id for row_id, _, _, _ in old])))
            visitors = {visitor for _, _, _, visitor in old if visitor is not None}
            visitor_store.refresh(connection, visitors)
            touched |= visitors
            rows += len(old)
    while True:
        with engine.begin() as connection:
            strangers = connection.execute(
                select(table.id, table.face_path, table.snapshot_path)
                .where(
                    and_(
                        table.name == UNKNOWN,
                        table.end_ts < unknown_cutoff,
                        or_(table.face_path.is_not(None), table.snapshot_path.is_not(None)),
                    )
                )
                .limit(BATCH)
            ).all()
            if not strangers:
                break
            for _, face, snapshot in strangers:
                pictures += _unlink(root, face) + _unlink(root, snapshot)
            connection.execute(
                update(sightings)
                .where(table.id.in_([row_id for row_id, _, _ in strangers]))
                .values(face_path=None, snapshot_path=None)
            )
    oldest_kept = day_folder(cutoff - DAY)  # a day's slack: a sighting's folder is its start's day, not its end's
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and DAY_FOLDER.match(folder.name) and folder.name < oldest_kept:
                shutil.rmtree(folder, ignore_errors=True)
                folders += 1
    swept = Swept(rows, pictures, folders, touched)
    if rows or pictures or folders:
        log.info("retention: %d sightings, %d pictures, %d day folders deleted", rows, pictures, folders)
    return swept


class Schedule:
    """When retention is next due: at once, then every EVERY_S."""

    def __init__(self, every_s: float = EVERY_S) -> None:
        self.every_s = every_s
        self.next_at = 0.0

    def due(self, monotonic_now: float | None = None) -> bool:
        now = time.monotonic() if monotonic_now is None else monotonic_now
        if now < self.next_at:
            return False
        self.next_at = now + self.every_s
        return True
