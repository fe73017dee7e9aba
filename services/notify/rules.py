"""Who hears of what: the filters of webhooks and notifications, which events are worth a phone buzz, how often.

Pure (no I/O, the clock passed in), so the rules are tested without a
receiver.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.bus import schema
from shared.people.names import display_name
from shared.sightings.events import SightingEvent


def _folded(name: str) -> str:
    """A name as filters compare it: 'Ada_Lovelace', 'Ada Lovelace' and 'ada lovelace' are one person."""
    return display_name(name).casefold()


@dataclass(frozen=True)
class Wanted:
    """A filter: only these people ('Unknown' for strangers) and these cameras; an empty list lets all through."""

    names: frozenset[str] = frozenset()
    cameras: frozenset[str] = frozenset()

    @classmethod
    def of(cls, names: list[str], cameras: list[str]) -> Wanted:
        return cls(frozenset(_folded(name) for name in names), frozenset(cameras))

    def wants(self, event: SightingEvent) -> bool:
        """Whether the event passes, judged by its name at that moment (a stranger later named is that person)."""
        if self.cameras and event.camera not in self.cameras:
            return False
        return not self.names or _folded(event.name) in self.names

    def describe(self) -> str:
        """For the start-up log."""
        names = ", ".join(sorted(self.names)) or "everyone"
        cameras = ", ".join(sorted(self.cameras)) or "every camera"
        return f"{names}; {cameras}"


def worth_a_notification(event: SightingEvent) -> bool:
    """A stranger's appearance, or a person's arrival (an appearance, or a sighting that turned out to be them)."""
    if event.type == "appear":
        return True
    return event.type == "named" and event.known


class RateLimit:
    """At most one notification per person per camera every ``interval_s``; strangers count as one person, so a
    crowd at the door is one alert, not one per face."""

    MAX_KEYS = 10_000
    """Keys kept at most: old ones are forgotten first (they are past their interval anyway in practice)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[tuple[str, str], float] = {}

    def allow(self, event: SightingEvent, now: float) -> bool:
        """True (and the time noted) when the event's person has not been notified of on its camera lately."""
        key = (event.name if event.known else schema.UNKNOWN, event.camera)
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            return False
        self._last.pop(key, None)
        self._last[key] = now
        while len(self._last) > self.MAX_KEYS:
            del self._last[next(iter(self._last))]
        return True
