"""Who is in view of each camera, from the results on the bus: the rules the MQTT bridge publishes.

Pure: fed with :class:`~shared.bus.schema.Result` messages and a clock, it
answers with appear/leave events, and keeps the set of known names each
camera sees now. A known person is keyed by name (two tracks of one person
are one presence); a stranger by the track the tracker gave their face, since
"Unknown" names nobody in particular.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.bus import schema

PRESENCE_HOLD_S = 5.0
"""A name stays present this long after it was last seen. The tracker keeps a face's track for TRACK_MAX_AGE_S (1 s),
but a person who turns away, is hidden for a moment or is not detected in a few frames in a row disappears from the
results for a second or two: without this hold a light or an automation would toggle with every such flicker. Long
enough to ride over that, short enough that 'left the room' is still said within a few seconds."""


@dataclass(frozen=True)
class PresenceEvent:
    """Someone appeared in or left a camera's view."""

    type: Literal["appear", "leave"]
    camera: str
    name: str
    """The person's name, or 'Unknown' for a stranger (then ``track_id`` tells strangers apart)."""
    track_id: int | None
    confidence: float
    time: float
    """When it happened (Unix s): the frame that showed them, or the moment they counted as gone."""
    last_seen: float
    reason: str = ""
    """Why a leave: 'out_of_view', or 'named' when a stranger's track turned out to be someone known."""

    @property
    def known(self) -> bool:
        return self.name != schema.UNKNOWN

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.type,
            "camera": self.camera,
            "name": self.name,
            "track_id": self.track_id,
            "confidence": round(self.confidence, 1),
            "time": round(self.time, 3),
            "last_seen": round(self.last_seen, 3),
        }
        if self.reason:
            body["reason"] = self.reason
        return body


@dataclass
class _Seen:
    track_id: int | None
    confidence: float
    last_seen: float


@dataclass
class _CameraView:
    known: dict[str, _Seen] = field(default_factory=dict)
    strangers: dict[int, _Seen] = field(default_factory=dict)


class Presence:
    """Per camera, who is in view; each change as a :class:`PresenceEvent`."""

    def __init__(self, hold_s: float = PRESENCE_HOLD_S) -> None:
        self.hold_s = hold_s
        self._views: dict[str, _CameraView] = {}
        self.last_seen: dict[str, tuple[str, float]] = {}
        """Each known name's last sighting: (camera, Unix s)."""

    def observe(self, result: schema.Result, now: float) -> list[PresenceEvent]:
        """Take one result in; the appear events it causes (and leaves of strangers that turned out to be known)."""
        view = self._views.setdefault(result.camera, _CameraView())
        events: list[PresenceEvent] = []
        for face in result.faces:
            if face.name == schema.UNKNOWN:
                if face.track_id is None:
                    continue  # a stranger without a track cannot be told from the next one: nothing to follow
                seen = view.strangers.get(face.track_id)
                if seen is None:
                    view.strangers[face.track_id] = _Seen(face.track_id, face.confidence, now)
                    events.append(self._event("appear", result.camera, schema.UNKNOWN, face, now, now))
                else:
                    seen.last_seen = now
                continue
            self.last_seen[face.name] = (result.camera, now)
            if face.track_id is not None and (stranger := view.strangers.pop(face.track_id, None)):
                events.append(
                    PresenceEvent(
                        "leave", result.camera, schema.UNKNOWN, face.track_id, stranger.confidence, now, now, "named"
                    )
                )
            seen = view.known.get(face.name)
            if seen is None:
                view.known[face.name] = _Seen(face.track_id, face.confidence, now)
                events.append(self._event("appear", result.camera, face.name, face, now, now))
            else:
                seen.last_seen = now
                seen.confidence = face.confidence
        return events

    def expire(self, now: float) -> list[PresenceEvent]:
        """The leave events of everyone not seen for ``hold_s``: call it often, results or not."""
        events: list[PresenceEvent] = []
        for camera, view in self._views.items():
            for name, seen in list(view.known.items()):
                if now - seen.last_seen > self.hold_s:
                    del view.known[name]
                    events.append(self._leave(camera, name, seen, now))
            for track_id, seen in list(view.strangers.items()):
                if now - seen.last_seen > self.hold_s:
                    del view.strangers[track_id]
                    events.append(self._leave(camera, schema.UNKNOWN, seen, now))
        return events

    def in_view(self, camera: str) -> list[str]:
        """The known names a camera sees now, sorted."""
        view = self._views.get(camera)
        return sorted(view.known) if view else []

    def cameras(self) -> list[str]:
        """Every camera heard from so far."""
        return sorted(self._views)

    @staticmethod
    def _event(
        kind: Literal["appear", "leave"], camera: str, name: str, face: schema.Face, at: float, last_seen: float
    ) -> PresenceEvent:
        return PresenceEvent(kind, camera, name, face.track_id, face.confidence, at, last_seen)

    @staticmethod
    def _leave(camera: str, name: str, seen: _Seen, now: float) -> PresenceEvent:
        return PresenceEvent("leave", camera, name, seen.track_id, seen.confidence, now, seen.last_seen, "out_of_view")
