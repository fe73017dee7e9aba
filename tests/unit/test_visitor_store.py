"""Visitors in the database, on SQLite and on a real PostgreSQL: made, joined and left by sightings, their figures
always those of the sightings kept, pages and filters, naming, the crops naming takes, and retention."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from services.sightings.retention import DAY, enforce
from shared.faces.visitors import from_bytes, to_bytes
from shared.sightings import store, visitor_store
from shared.sightings.database import upgrade


def sighting(engine: Engine, camera: str, start: float, end: float, name: str = "Unknown", face: bool = False) -> int:
    row_id = store.add(engine, camera, 1, name, start, 70.0)
    store.save(engine, row_id, end_ts=end, **({"face_path": f"day/{row_id}-face.jpg"} if face else {}))
    return row_id


def encodings(value: float, count: int = 1) -> bytes:
    return to_bytes(np.full((count, 128), value))


def test_a_visitors_figures_are_those_of_their_sightings(empty_database: Engine) -> None:
    upgrade(empty_database)
    first = sighting(empty_database, "door", 100.0, 110.0)
    visitor = visitor_store.create(empty_database, first, encodings(0.1, 3))
    assert visitor_store.get(empty_database, visitor) == visitor_store.VisitorRow(
        visitor, 100.0, 110.0, 1, None, ["door"]
    )
    second = sighting(empty_database, "yard", 500.0, 505.0)
    visitor_store.join(empty_database, second, visitor, encodings(0.2))
    store.save(empty_database, second, end_ts=530.0)  # the sighting goes on...
    visitor_store.seen_again(empty_database, visitor)  # ...and its visitor is seen until then
    assert visitor_store.get(empty_database, visitor) == visitor_store.VisitorRow(
        visitor, 100.0, 530.0, 2, None, ["door", "yard"]
    )
    assert store.get(empty_database, second).visitor == visitor  # type: ignore[union-attr]
    kept = visitor_store.unnamed_encodings(empty_database)
    assert [(who, len(from_bytes(blob))) for who, blob in kept] == [(visitor, 3), (visitor, 1)]

    visitor_store.leave(empty_database, second)  # it was someone known after all
    assert store.get(empty_database, second).visitor is None  # type: ignore[union-attr]
    assert visitor_store.get(empty_database, visitor) == visitor_store.VisitorRow(
        visitor, 100.0, 110.0, 1, None, ["door"]
    )
    assert len(visitor_store.unnamed_encodings(empty_database)) == 1, "its encodings are gone"
    visitor_store.leave(empty_database, first)
    assert visitor_store.get(empty_database, visitor) is None, "a visitor with no sighting left is deleted"
    assert visitor_store.create(empty_database, first, encodings(0.1)) > visitor, "a visitor's id is never reused"


def test_pages_last_seen_first_with_filters(empty_database: Engine) -> None:
    upgrade(empty_database)
    made = []
    for index, last in enumerate([300.0, 100.0, 300.0, 200.0, 400.0]):  # two seen last at 300: the id breaks the tie
        row_id = sighting(empty_database, "door" if index % 2 else "hall", last - 10, last)
        made.append(visitor_store.create(empty_database, row_id, encodings(index)))
    expected = [made[4], made[2], made[0], made[3], made[1]]
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = visitor_store.page(empty_database, visitor_store.VisitorFilter(), 2, cursor)
        seen += [row.id for row in rows]
        pages += 1
        if cursor is None:
            break
    assert seen == expected and pages == 3
    visitor_store.name(empty_database, made[2], "Ada")
    named = visitor_store.page(empty_database, visitor_store.VisitorFilter(named=True), 10)[0]
    assert [(row.id, row.name) for row in named] == [(made[2], "Ada")]
    strangers = visitor_store.page(empty_database, visitor_store.VisitorFilter(named=False, since=200.0), 10)[0]
    assert [row.id for row in strangers] == [made[4], made[0], made[3]]
    at_door = visitor_store.page(empty_database, visitor_store.VisitorFilter(camera="door"), 10)[0]
    assert [row.id for row in at_door] == [made[3], made[1]] and at_door[0].cameras == ["door"]
    assert visitor_store.named_ids(empty_database) == {made[2]}
    assert made[2] not in {who for who, _ in visitor_store.unnamed_encodings(empty_database)}


def test_naming_renames_their_unknown_sightings_only(empty_database: Engine) -> None:
    upgrade(empty_database)
    first = sighting(empty_database, "door", 100.0, 110.0)
    visitor = visitor_store.create(empty_database, first, encodings(0.1))
    second = sighting(empty_database, "door", 200.0, 210.0)
    visitor_store.join(empty_database, second, visitor, encodings(0.1))
    store.save(empty_database, second, name="Bob")  # (a sighting said to be someone else meanwhile)
    other = sighting(empty_database, "door", 300.0, 310.0)
    assert visitor_store.name(empty_database, visitor, "Ada") == 1
    assert [store.get(empty_database, row).name for row in (first, second, other)] == [  # type: ignore[union-attr]
        "Ada",
        "Bob",
        "Unknown",
    ]
    assert visitor_store.get(empty_database, visitor).name == "Ada"  # type: ignore[union-attr]


def test_the_crops_naming_takes_are_the_most_typical_first(empty_database: Engine) -> None:
    upgrade(empty_database)
    typical, odd, plain, no_crop = (
        sighting(empty_database, "door", start, start + 5, face=start != 400.0)
        for start in (100.0, 200.0, 300.0, 400.0)
    )
    visitor = visitor_store.create(empty_database, typical, encodings(0.10, 2))
    visitor_store.join(empty_database, odd, visitor, encodings(0.40))  # far from the rest: wrongly given this id?
    visitor_store.join(empty_database, plain, visitor, encodings(0.14))
    visitor_store.join(empty_database, no_crop, visitor, encodings(0.10))
    best = visitor_store.best_faces(empty_database, visitor)
    assert [face.sighting for face in best] == [typical, plain, odd], "no crop, not offered; the odd one last"
    assert best[0].face_path == f"day/{typical}-face.jpg"
    assert [face.sighting for face in visitor_store.best_faces(empty_database, visitor, count=1)] == [typical]


def test_retention_takes_a_visitors_old_sightings_and_the_visitor_with_the_last(
    empty_database: Engine, tmp_path: Path
) -> None:
    upgrade(empty_database)
    now = time.time()
    old = sighting(empty_database, "door", now - 40 * DAY, now - 40 * DAY + 5)
    recent = sighting(empty_database, "door", now - DAY, now - DAY + 5)
    lasting = visitor_store.create(empty_database, old, encodings(0.1))
    visitor_store.join(empty_database, recent, lasting, encodings(0.1))
    gone = visitor_store.create(empty_database, sighting(empty_database, "yard", now - 35 * DAY, now - 35 * DAY), b"")
    swept = enforce(empty_database, tmp_path, now, retain_days=30, retain_unknown_days=7)
    assert swept.rows == 2 and swept.visitors == {lasting, gone}
    assert visitor_store.get(empty_database, gone) is None
    kept = visitor_store.get(empty_database, lasting)
    assert kept is not None and (kept.first_seen, kept.sightings) == (now - DAY, 1), "first seen: the oldest kept"


def test_a_sighting_joins_only_a_stranger_and_forgetting_one_keeps_when_and_where(empty_database: Engine) -> None:
    upgrade(empty_database)
    first = sighting(empty_database, "door", 100.0, 110.0, face=True)
    visitor = visitor_store.create(empty_database, first, encodings(0.1))
    known = sighting(empty_database, "door", 200.0, 210.0, name="Ada", face=True)
    assert visitor_store.join(empty_database, known, visitor, encodings(0.1))
    visitor_store.name(empty_database, visitor, "Bob")
    late = sighting(empty_database, "yard", 300.0, 310.0)
    assert not visitor_store.join(empty_database, late, visitor, encodings(0.1)), "named meanwhile: no stranger"
    assert store.get(empty_database, late).visitor is None  # type: ignore[union-attr]

    unlinked, pictures = visitor_store.forget(empty_database, visitor)
    assert unlinked == 2 and pictures == [], "first was renamed Bob: its pictures are a known person's now"
    assert visitor_store.get(empty_database, visitor) is None
    assert [store.get(empty_database, row).visitor for row in (first, known)] == [None, None]  # type: ignore[union-attr]
    assert visitor_store.faces(empty_database, visitor) == []
    assert not visitor_store.join(empty_database, late, visitor, encodings(0.1)), "forgotten: nobody to join"

    stranger = visitor_store.create(empty_database, late, encodings(0.3))
    store.save(empty_database, late, face_path="day/late-face.jpg", snapshot_path="day/late-snapshot.jpg")
    assert visitor_store.forget(empty_database, stranger) == (1, ["day/late-face.jpg", "day/late-snapshot.jpg"])
    row = store.get(empty_database, late)
    assert row is not None and (row.camera, row.start, row.face_path, row.visitor) == ("yard", 300.0, None, None)
    assert visitor_store.unnamed_encodings(empty_database) == [], "no encoding of them is left"
