"""Which faces are on which camera now: the open sightings, what each is called, and when one has left.

Pure bookkeeping over the bus's results (no I/O), so its rules are tested
without a pipeline. A sighting is one track id on one camera: it opens when
the id first shows in that camera's results and closes when the id has not
shown for the closing time (shared/sightings/closing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from shared.boxes import NormBox
from shared.bus import schema
from shared.sightings.closing import CLOSE_AFTER_S

MIN_GAIN = 1.0
"""Confidence points a face must gain over the saved crop's before the crop is cut again: a track's confidence
creeps up by fractions, and each new crop is a decode, an encode and two file writes."""


@dataclass
class NameScore:
    """What one name got over a track's frames."""

    total: float = 0.0
    """The sum of its confidences: the name a track is kept under has the largest (more frames and surer)."""
    best: float = 0.0


@dataclass
class Appearance:
    """One open sighting."""

    camera: str
    track_id: int
    start: float
    end: float
    heard: float
    """Monotonic time of the last result it was in (closing is by our clock: a camera may stop sending at all)."""
    frames: int = 0
    scores: dict[str, NameScore] = field(default_factory=dict)
    row_id: int | None = None
    said_name: str = ""
    """The name the bus was last told (appear or named)."""
    saved_name: str = ""
    """The name last written to its row: the row's name is written only when this changes, so a rename made by
    someone else (the web naming a visitor) is not undone every second."""
    visitor: int | None = None
    """The visitor an Unknown sighting was recognised as (services/sightings/visitors.py), None until then."""
    image_name: str = ""
    image_confidence: float = -1.0
    """Name and confidence of the face whose crop is saved; -1 before any."""

    @property
    def name(self) -> str:
        """The name with the largest sum of confidences over the track's frames."""
        return max(self.scores.items(), key=lambda item: (item[1].total, item[1].best))[0]

    @property
    def confidence(self) -> float:
        return self.scores[self.name].best

    def message(self, event: Literal["appear", "named", "leave"], now: float) -> schema.Sighting:
        """The bus message saying so (the row must have its id)."""
        assert self.row_id is not None
        return schema.Sighting(
            event=event,
            id=self.row_id,
            camera=self.camera,
            track_id=self.track_id,
            name=self.name,
            confidence=self.confidence,
            start=self.start,
            end=self.end,
            frames=self.frames,
            visitor=self.visitor,
            ts=now,
        )


@dataclass(frozen=True)
class Seen:
    """What one face of a result did to its sighting."""

    appearance: Appearance
    opened: bool
    renamed: bool
    box: NormBox
    """Where the face is on this frame."""
    better_face: NormBox | None
    """The face's box when this frame should become the sighting's saved crop, else None."""


class Book:
    """The open sightings of every camera."""

    def __init__(self, close_after_s: float = CLOSE_AFTER_S) -> None:
        self.close_after_s = close_after_s
        self.open: dict[tuple[str, int], Appearance] = {}

    def observe(self, result: schema.Result, heard: float) -> list[Seen]:
        """Count one camera's result; what happened to each sighting it touched."""
        seen = []
        for face in result.faces:
            if face.track_id is None:
                continue  # only the tracker's results say which face is which
            key = (result.camera, face.track_id)
            appearance = self.open.get(key)
            opened = appearance is None
            if appearance is None:
                appearance = self.open[key] = Appearance(
                    result.camera, face.track_id, result.capture_ts, result.capture_ts, heard
                )
            appearance.end = max(appearance.end, result.capture_ts)
            appearance.heard = heard
            appearance.frames += 1
            score = appearance.scores.setdefault(face.name, NameScore())
            score.total += face.confidence
            score.best = max(score.best, face.confidence)
            leader = appearance.name
            renamed = not opened and leader != appearance.said_name
            better = face.name == leader and (
                appearance.image_name != leader or face.confidence >= appearance.image_confidence + MIN_GAIN
            )
            seen.append(Seen(appearance, opened, renamed, face.box, face.box if better else None))
        return seen

    def expire(self, heard: float) -> list[Appearance]:
        """The sightings unheard of for the closing time, taken out of the book."""
        gone = [key for key, appearance in self.open.items() if heard - appearance.heard >= self.close_after_s]
        return [self.open.pop(key) for key in gone]

    def close_all(self) -> list[Appearance]:
        """Every open sighting, taken out (the service is stopping)."""
        closing = list(self.open.values())
        self.open.clear()
        return closing
