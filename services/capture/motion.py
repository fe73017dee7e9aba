"""Where the picture moves: a cheap difference against a running background, on a small grey copy.

The workers search for small faces at full resolution only where it pays: a
person walking in moves. Capture sees every frame, so it measures motion here,
once per frame, and sends the regions in the frame's header. The frame is
shrunk to :data:`MOTION_WIDTH` px wide and blurred (sensor noise and JPEG
blocks are not motion), compared with a background that forgets in about
:data:`BACKGROUND_S` seconds (someone who sits still fades into it; the
tracker and the sweep keep them), and the changed pixels are grouped into
boxes. A change over most of the frame (a light switched on, the camera's
exposure) is no motion to search: it is absorbed at once.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from shared.boxes import NormBox

MOTION_WIDTH = 320
"""Width (px) of the grey copy motion is measured on: a person is still tens of pixels there, the cost is ~1 ms."""
BACKGROUND_S = 4.0
"""How long a change takes to become background (time constant of the running average)."""
THRESHOLD = 18
"""Grey levels a pixel must differ from the background by to count as changed (noise stays under ~10)."""
MIN_REGION_FRACTION = 0.0004
"""Changed regions smaller than this fraction of the frame are noise (a 2x2 px speck on the grey copy)."""
MAX_CHANGED_FRACTION = 0.6
"""More of the frame than this changed at once: a lighting change, not motion."""
MAX_REGIONS = 32
"""At most this many regions per frame, largest first: the header stays small, the workers' budget decides anyway."""


class MotionDetector:
    """Feed it every frame of one camera in order; it answers where each frame moved."""

    def __init__(self, width: int = MOTION_WIDTH, background_s: float = BACKGROUND_S) -> None:
        self.width = width
        self.background_s = background_s
        self._background: np.ndarray | None = None
        self._last_at = 0.0

    def regions(self, frame: np.ndarray, at: float | None = None) -> list[NormBox]:
        """The normalised boxes of what changed in this BGR frame; ``at``: its time (s), default now."""
        now = time.monotonic() if at is None else at
        height, width = frame.shape[:2]
        small_height = max(1, round(height * self.width / width))
        grey = cv2.cvtColor(
            cv2.resize(frame, (self.width, small_height), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        grey = cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)
        if self._background is None or self._background.shape != grey.shape:
            self._background, self._last_at = grey, now
            return []
        weight = min(1.0, max(0.0, now - self._last_at) / self.background_s)
        self._last_at = now
        changed = (cv2.absdiff(grey, self._background) > THRESHOLD).astype(np.uint8)
        if changed.mean() > MAX_CHANGED_FRACTION:
            self._background = grey
            return []
        cv2.accumulateWeighted(grey, self._background, weight)
        grown = cv2.dilate(changed, np.ones((3, 3), np.uint8), iterations=2)
        contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        smallest = MIN_REGION_FRACTION * grey.size
        rects = sorted((cv2.boundingRect(contour) for contour in contours), key=lambda r: r[2] * r[3], reverse=True)
        return [
            (x / self.width, y / small_height, w / self.width, h / small_height)
            for x, y, w, h in rects[:MAX_REGIONS]
            if w * h >= smallest
        ]
