"""Sightings as other systems are told of them: appear, named and leave events for MQTT, webhooks and notifications.

The sightings service says ``appear`` the moment a track first shows, and
nearly every face first shows as "Unknown": the tracker names it after two
agreeing encodings, a fraction of a second to a second or so later. Passed on
as they are, each arrival of a known person would ring as a stranger first.
So an Unknown appearance is held for :data:`UNKNOWN_SETTLE_S`: named within
it, it is told once, as an appearance of that person; still Unknown after
it, as an appearance of a stranger. A known one is told at once.

Each told sighting then gets a ``named`` event if its name changes, and one
``leave`` at its close; a sighting too short to be told (a stranger gone
within the settle time) is told as appear and leave together when it closes.
The MQTT bridge and the notify service both use :class:`Announcer`, so they
tell the same story.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from shared.bus import schema

UNKNOWN_SETTLE_S = 3.0
"""How long an Unknown appearance waits to be named before it is told as a stranger's. On the hamilton clip with one
worker on a busy 2-core machine, sightings of Lin-Manuel Miranda were named 0.2 to 1.4 s after their first frame;
3 s covers that with room, and a stranger's alert 3 s late is still in time to look."""
MAX_FOLLOWED = 10_000
"""Sightings followed at once, the oldest forgotten first: a leave lost on the bus must not make the table grow."""

EventType = Literal["appear", "named", "leave"]


def snapshot_path(sighting_id: int) -> str:
    """Where the web serves a sighting's snapshot (an admin's credential needed)."""
    return f"/api/sightings/{sighting_id}/snapshot.jpg"


@dataclass(frozen=True)
class SightingEvent:
    """One thing worth telling about a sighting."""

    type: EventType
    sighting_id: int
    camera: str
    name: str
    """The person (their folder name), or 'Unknown'."""
    track_id: int
    confidence: float
    start: float
    """Capture time of the sighting's first frame, Unix s."""
    end: float
    """Capture time of its newest frame so far: on an appear or named, the frame that made it."""
    time: float
    """When it was told, Unix s: when the sightings service said it, or a stranger's settle time ended."""
    previous_name: str | None = None
    """On a ``named``: the name told before."""
    visitor: int | None = None
    """A stranger's visitor id (the same for the same unenrolled face on every camera and day), once the sightings
    service has decided it: usually within the settle time; else None."""

    @property
    def known(self) -> bool:
        return self.name != schema.UNKNOWN

    def as_json(self, public_url: str | None) -> dict[str, object]:
        """The event as MQTT, webhooks and the docs show it; the snapshot link is absolute with PUBLIC_URL. Times
        and confidence are as the sightings API serves them, unrounded, so a receiver can match the row."""
        link = snapshot_path(self.sighting_id)
        body: dict[str, object] = {
            "type": self.type,
            "sighting_id": self.sighting_id,
            "camera": self.camera,
            "name": self.name,
            "track_id": self.track_id,
            "confidence": self.confidence,
            "start": self.start,
            "end": self.end,
            "time": self.time,
            "snapshot_url": public_url.rstrip("/") + link if public_url else link,
            "visitor": self.visitor,
        }
        if self.previous_name is not None:
            body["previous_name"] = self.previous_name
        return body


def _event(
    kind: EventType, message: schema.Sighting, time: float | None = None, previous: str | None = None
) -> SightingEvent:
    return SightingEvent(
        kind,
        message.id,
        message.camera,
        message.name,
        message.track_id,
        message.confidence,
        message.start,
        message.end,
        message.ts if time is None else time,
        previous,
        message.visitor,
    )


class Announcer:
    """Turns the sightings service's messages into :class:`SightingEvent` s; feed it messages and the clock."""

    def __init__(self, settle_s: float = UNKNOWN_SETTLE_S, max_followed: int = MAX_FOLLOWED) -> None:
        self.settle_s = settle_s
        self.max_followed = max_followed
        self._waiting: OrderedDict[int, tuple[float, schema.Sighting]] = OrderedDict()
        """Unknown appearances not told yet: (when heard, newest message), by sighting id."""
        self._told: OrderedDict[int, str] = OrderedDict()
        """Sightings told, with the name told last."""

    def hear(self, message: schema.Sighting, now: float) -> list[SightingEvent]:
        """One bus message in; the events to tell now. ``now`` is our clock (the settle time is counted on it)."""
        if message.event == "leave":
            return self._leave(message)
        told = self._told.get(message.id)
        if told is not None:
            if message.name == told:
                return []  # a repeated appear, or named back and forth
            self._told[message.id] = message.name
            return [_event("named", message, previous=told)]
        if message.name == schema.UNKNOWN:
            heard = self._waiting[message.id][0] if message.id in self._waiting else now
            self._waiting[message.id] = (heard, message)
            self._bound(self._waiting)
            return []
        # named within the settle time (or first heard of named: this process started after its appear)
        self._waiting.pop(message.id, None)
        return [self._tell(_event("appear", message))]

    def due(self, now: float) -> list[SightingEvent]:
        """Unknown appearances not named within the settle time: told now, as strangers."""
        events = []
        while self._waiting:
            sighting_id, (heard, message) = next(iter(self._waiting.items()))
            if now - heard < self.settle_s:
                break  # in the order heard, so the rest are younger
            del self._waiting[sighting_id]
            events.append(self._tell(_event("appear", message, time=now)))
        return events

    def _leave(self, message: schema.Sighting) -> list[SightingEvent]:
        waiting = self._waiting.pop(message.id, None)
        if waiting is not None:  # gone before the settle time: both at once, so every appear has its leave
            return [self._tell(_event("appear", message)), self._forget(_event("leave", message))]
        told = self._told.get(message.id)
        if told is None:
            return []  # its appear was never told (this process started since): nothing to close
        events = [] if message.name == told else [_event("named", message, previous=told)]
        return [*events, self._forget(_event("leave", message))]

    def _tell(self, event: SightingEvent) -> SightingEvent:
        self._told[event.sighting_id] = event.name
        self._bound(self._told)
        return event

    def _forget(self, event: SightingEvent) -> SightingEvent:
        self._told.pop(event.sighting_id, None)
        return event

    def _bound(self, table: OrderedDict) -> None:
        while len(table) > self.max_followed:
            table.popitem(last=False)
