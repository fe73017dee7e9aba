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
from shared.faces.regions import detection_scale, fine_pass_needed, sweep_tile

SWEEP_INTERVAL_S = 0.5
"""At most two sweep tiles a second per camera (~45 ms each): 720p is swept in 8 s, 1080p in 18 s, 4K in 72 s."""


class Sweeps:
    """The next sweep tile of every camera."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._next: dict[str, int] = {}
        self._last_ts: dict[str, float] = {}

    def next_tile(self, camera: str, width: int, height: int, capture_ts: float) -> NormBox | None:
        """The tile a frame of this camera captured at ``capture_ts`` searches, if one is due.

        None when the camera's frames need no fine pass, or its last tile was handed out less than
        SWEEP_INTERVAL_S before (a capture time that went backwards, a file that looped, starts afresh).
        """
        settings = self._settings
        coarse = detection_scale(width, settings.scale, settings.min_detect_width)
        if not fine_pass_needed(settings.min_face_px, coarse, settings.upsample):
            return None
        last = self._last_ts.get(camera)
        if last is not None and 0 <= capture_ts - last < SWEEP_INTERVAL_S:
            return None
        self._last_ts[camera] = capture_ts
        index = self._next.get(camera, 0)
        self._next[camera] = index + 1
        return sweep_tile(index, width, height, settings.min_face_px)
