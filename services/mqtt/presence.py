"""Which known people each camera sees now, from the results on the bus: the retained states the MQTT bridge keeps.

Pure: fed with :class:`~shared.bus.schema.Result` messages and a clock, it
says when a name comes into or goes out of a camera's view. A person is keyed
by name, so two tracks of one person are one presence. Strangers have no
presence (no one to switch on); they are told by the sightings' events.

Presence follows the results rather than the sightings because it is state,
not news: it is right from the bridge's first second (a sighting opened
before the bridge started is never heard of), and it turns ON with the first
result that names a person instead of when their sighting's name changes.
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
class PresenceChange:
    """A known person came into or went out of a camera's view."""

    type: Literal["appear", "leave"]
    camera: str
    name: str
    time: float
    """When it happened (Unix s): the result that showed them, or the moment they counted as gone."""
    last_seen: float


@dataclass
class _CameraView:
    last_seen: dict[str, float] = field(default_factory=dict)
    """Each known name in view, with when it was last in a result."""


class Presence:
    """Per camera, the known people in view; each change as a :class:`PresenceChange`."""

    def __init__(self, hold_s: float = PRESENCE_HOLD_S) -> None:
        self.hold_s = hold_s
        self._views: dict[str, _CameraView] = {}
        self.last_seen: dict[str, tuple[str, float]] = {}
        """Each known name's last sighting: (camera, Unix s)."""

    def observe(self, result: schema.Result, now: float) -> list[PresenceChange]:
        """Take one result in; the names it brings into view."""
        view = self._views.setdefault(result.camera, _CameraView())
        changes = []
        for face in result.faces:
            if face.name == schema.UNKNOWN:
                continue
            self.last_seen[face.name] = (result.camera, now)
            if face.name not in view.last_seen:
                changes.append(PresenceChange("appear", result.camera, face.name, now, now))
            view.last_seen[face.name] = now
        return changes

    def expire(self, now: float) -> list[PresenceChange]:
        """The names not seen for ``hold_s``, out of view now: call it often, results or not."""
        changes = []
        for camera, view in self._views.items():
            for name, seen in list(view.last_seen.items()):
                if now - seen > self.hold_s:
                    del view.last_seen[name]
                    changes.append(PresenceChange("leave", camera, name, now, seen))
        return changes

    def in_view(self, camera: str) -> list[str]:
        """The known names a camera sees now, sorted."""
        view = self._views.get(camera)
        return sorted(view.last_seen) if view else []

    def cameras(self) -> list[str]:
        """Every camera heard from so far."""
        return sorted(self._views)
