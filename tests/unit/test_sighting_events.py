"""The events other systems are told (shared/sightings/events.py): a stranger settles, a named one is told once."""

from __future__ import annotations

from shared.bus import schema
from shared.sightings.events import UNKNOWN_SETTLE_S, Announcer, SightingEvent


def said(
    event: str, sighting_id: int, name: str, ts: float, camera: str = "door", visitor: int | None = None
) -> schema.Sighting:
    return schema.Sighting(
        event=event, id=sighting_id, camera=camera, track_id=40 + sighting_id, name=name, confidence=88.0,
        start=100.0, end=ts, frames=3, ts=ts, visitor=visitor,
    )  # fmt: skip


def told(events: list[SightingEvent]) -> list[tuple[str, int, str]]:
    return [(event.type, event.sighting_id, event.name) for event in events]


def test_a_known_face_is_told_at_once_and_once() -> None:
    announcer = Announcer()
    assert told(announcer.hear(said("appear", 1, "Ada", 100.0), 100.0)) == [("appear", 1, "Ada")]
    assert announcer.hear(said("appear", 1, "Ada", 100.1), 100.1) == []  # a repeat says nothing new
    assert announcer.due(1000.0) == []
    assert told(announcer.hear(said("leave", 1, "Ada", 106.0), 106.0)) == [("leave", 1, "Ada")]


def test_an_unknown_appearance_named_within_the_settle_time_is_told_as_that_person_only() -> None:
    announcer = Announcer()
    assert announcer.hear(said("appear", 2, "Unknown", 100.0), 100.0) == []
    assert announcer.due(100.0 + UNKNOWN_SETTLE_S - 0.1) == []
    events = announcer.hear(said("named", 2, "Ada", 100.6), 100.6)
    assert told(events) == [("appear", 2, "Ada")] and events[0].end == 100.6  # the frame that named her
    assert announcer.due(200.0) == []
    assert told(announcer.hear(said("leave", 2, "Ada", 107.0), 107.0)) == [("leave", 2, "Ada")]


def test_a_stranger_is_told_when_the_settle_time_ends_and_a_later_name_is_a_named_event() -> None:
    announcer = Announcer()
    announcer.hear(said("appear", 3, "Unknown", 100.0), 100.0)
    announcer.hear(said("appear", 4, "Unknown", 101.0), 101.0)
    events = announcer.due(100.0 + UNKNOWN_SETTLE_S)
    assert told(events) == [("appear", 3, "Unknown")] and events[0].time == 100.0 + UNKNOWN_SETTLE_S
    assert told(announcer.due(101.0 + UNKNOWN_SETTLE_S)) == [("appear", 4, "Unknown")]
    named = announcer.hear(said("named", 3, "Ada", 105.0), 105.0)
    assert told(named) == [("named", 3, "Ada")] and named[0].previous_name == "Unknown"
    assert told(announcer.hear(said("leave", 3, "Ada", 110.0), 110.0)) == [("leave", 3, "Ada")]


def test_a_stranger_gone_within_the_settle_time_is_told_appear_and_leave_together() -> None:
    announcer = Announcer()
    announcer.hear(said("appear", 5, "Unknown", 100.0), 100.0)
    assert told(announcer.hear(said("leave", 5, "Unknown", 101.0), 101.0)) == [
        ("appear", 5, "Unknown"),
        ("leave", 5, "Unknown"),
    ]
    assert announcer.due(1000.0) == []


def test_a_sighting_heard_of_midway_is_told_from_its_name_and_a_lone_leave_is_not() -> None:
    announcer = Announcer()  # as after a restart: the appear was said before this process listened
    assert told(announcer.hear(said("named", 6, "Ada", 100.0), 100.0)) == [("appear", 6, "Ada")]
    assert announcer.hear(said("leave", 7, "Bob", 100.0), 100.0) == []


def test_a_lost_leave_cannot_grow_the_tables_without_end() -> None:
    announcer = Announcer(max_followed=10)
    for sighting_id in range(1, 100):
        announcer.hear(said("appear", sighting_id, "Ada", 100.0), 100.0)
        announcer.hear(said("appear", 1000 + sighting_id, "Unknown", 100.0), 100.0)
    assert len(announcer._told) <= 10 and len(announcer._waiting) <= 10


def test_an_event_as_json_carries_the_sighting_and_its_snapshot_link() -> None:
    event = Announcer().hear(said("appear", 42, "Ada_Lovelace", 100.25), 100.25)[0]
    body = event.as_json(None)
    assert body == {
        "type": "appear",
        "sighting_id": 42,
        "camera": "door",
        "name": "Ada_Lovelace",
        "track_id": 82,
        "confidence": 88.0,
        "start": 100.0,
        "end": 100.25,
        "time": 100.25,
        "snapshot_url": "/api/sightings/42/snapshot.jpg",
        "visitor": None,
    }
    assert event.as_json("https://fs.lan/")["snapshot_url"] == "https://fs.lan/api/sightings/42/snapshot.jpg"


def test_a_stranger_is_told_with_the_visitor_decided_while_it_settled() -> None:
    announcer = Announcer()
    announcer.hear(said("appear", 6, "Unknown", 100.0), 100.0)
    announcer.hear(said("named", 6, "Unknown", 102.0, visitor=17), 102.0)  # its visitor decided: still a stranger
    events = announcer.due(100.0 + UNKNOWN_SETTLE_S)
    assert told(events) == [("appear", 6, "Unknown")] and events[0].as_json(None)["visitor"] == 17
