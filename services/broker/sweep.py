"""Each camera's slow sweep for small faces: which tile of the frame the next analysed frame searches.

The workers search small faces where something moves and where faces were;
a face that has not moved since the camera started is found by the sweep,
one tile per analysed frame, round and round (shared/faces/regions.py sizes
the tiles). The dispatcher keeps the place per camera, as it keeps the tracks,
and hands out at most one tile per :data:`SWEEP_INTERVAL_S` of a camera's time:
the sweep's cost is bounded per camera, however many frames are analysed.
"""

from __future__ import annotations

from shared.boxes import NormBox
from shared.config import Settings
from shared.faces.regions import detection_scale, fine_pass_needed, smallest_face_wanted, sweep_tile

ON_TIME = 0.9
"""A frame this close to its interval counts as on time: at 5 analysed frames a second, 0.2 s apart give or take
a rounding, every frame is due, not every other one."""
MOTION_INTERVAL_S = 0.2
"""Where a camera's frame moved is searched for small faces at most five times a second: a newcomer is found
within 0.2 s, and a fast camera (30 analysed frames a second) pays for five searches, not thirty. Tracked
faces are searched on every frame, so their boxes never flicker."""
SWEEP_INTERVAL_S = 0.5
"""At most two sweep tiles a second per camera (~45 ms each): 720p is swept in 8 s, 1080p in 18 s, 4K in 72 s."""


class Pace:
    """At most one "due" per interval of each camera's capture time (a time that went back, a looped file, restarts)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}

    def due(self, camera: str, capture_ts: float) -> bool:
        """Whether this frame is due; if it is, the next one is due an interval later."""
        last = self._last.get(camera)
        if last is not None and 0 <= capture_ts - last < self.interval_s * ON_TIME:
            return False
        self._last[camera] = capture_ts
        return True

    def forget(self, camera: str) -> None:
        self._last.pop(camera, None)


class Sweeps:
    """The next sweep tile of every camera, and when its motion is searched."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._next: dict[str, int] = {}
        self._tiles = Pace(SWEEP_INTERVAL_S)
        self._motion = Pace(MOTION_INTERVAL_S)

    def forget(self, camera: str) -> None:
        """Drop a camera's place in the sweep and its paces."""
        self._next.pop(camera, None)
        self._tiles.forget(camera)
        self._motion.forget(camera)

    def motion_due(self, camera: str, capture_ts: float) -> bool:
        """Whether this frame's motion regions are searched (at most once per MOTION_INTERVAL_S of capture time)."""
        return self._motion.due(camera, capture_ts)

    def next_tile(self, camera: str, width: int, height: int, capture_ts: float) -> NormBox | None:
        """The tile a frame of this camera captured at ``capture_ts`` searches, if one is due.

        None when the camera's frames need no fine pass, or its last tile was handed out less than
        SWEEP_INTERVAL_S before.
        """
        settings = self._settings
        coarse = detection_scale(width, settings.scale, settings.min_detect_width)
        min_face = smallest_face_wanted(settings.min_face_px, height)
        if not fine_pass_needed(min_face, coarse, settings.upsample) or not self._tiles.due(camera, capture_ts):
            return None
        index = self._next.get(camera, 0)
        self._next[camera] = index + 1
        return sweep_tile(index, width, height, min_face)
