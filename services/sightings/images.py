"""A sighting's pictures: the best face crop and the whole frame it came from, as JPEG files in a folder per day.

Cheap by design: the service keeps the last few seconds of each camera's JPEGs
as received (no decoding), and only when a face beats its sighting's saved
crop is that one frame decoded and the crop encoded. The snapshot is the
camera's JPEG itself, written as it came. Decoding every frame to cut crops
as they come would cost a core per camera at 1080p for pictures thrown away.
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shared.boxes import NormBox

CROP_MARGIN = 0.3
"""The crop reaches this fraction of the face's size beyond each side of its box: the whole head, some hair."""
CROP_QUALITY = 90
MAX_KEPT_FRAMES = 200
"""A bound on the frames kept per camera, whatever their timestamps say."""


def day_folder(ts: float) -> str:
    """The folder of a sighting that started at ``ts``: its UTC day (no folder repeats or vanishes at a DST change)."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class RecentFrames:
    """Each camera's JPEGs of the last ``keep_s`` seconds, as received, to cut a crop from when a result comes."""

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._frames: dict[str, deque[tuple[int, float, Any]]] = {}

    def add(self, camera: str, frame_id: int, ts: float, jpeg: Any) -> None:
        kept = self._frames.setdefault(camera, deque(maxlen=MAX_KEPT_FRAMES))
        kept.append((frame_id, ts, jpeg))
        while kept and kept[0][1] < ts - self.keep_s:
            kept.popleft()

    def find(self, camera: str, frame_id: int, ts: float) -> Any | None:
        """The JPEG of that frame (its id and capture time: a restarted capture counts from 0 again), or None."""
        for kept_id, kept_ts, jpeg in reversed(self._frames.get(camera, ())):
            if kept_id == frame_id and abs(kept_ts - ts) < 1e-6:
                return jpeg
        return None


def cut_face(jpeg: Any, box: NormBox) -> bytes | None:
    """The face with a margin around it, as a JPEG; None when the frame does not decode."""
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, width = image.shape[:2]
    x, y, w, h = box
    left = max(0, int((x - w * CROP_MARGIN) * width))
    top = max(0, int((y - h * CROP_MARGIN) * height))
    right = min(width, int((x + w * (1 + CROP_MARGIN)) * width) + 1)
    bottom = min(height, int((y + h * (1 + CROP_MARGIN)) * height) + 1)
    if right <= left or bottom <= top:
        return None
    ok, encoded = cv2.imencode(".jpg", image[top:bottom, left:right], [cv2.IMWRITE_JPEG_QUALITY, CROP_QUALITY])
    return encoded.tobytes() if ok else None


def _write(path: Path, data: bytes | memoryview) -> None:
    """Write a file whole or not at all: a reader (the web) never serves half a JPEG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as out:
        out.write(data)
    os.replace(temporary, path)


def save_pictures(root: Path, row_id: int, start: float, jpeg: Any, box: NormBox) -> tuple[str, str] | None:
    """Write the crop and the snapshot of a sighting (replacing older ones); their paths relative to ``root``."""
    crop = cut_face(jpeg, box)
    if crop is None:
        return None
    folder = day_folder(start)
    face, snapshot = f"{folder}/{row_id}-face.jpg", f"{folder}/{row_id}-snapshot.jpg"
    _write(root / face, crop)
    _write(root / snapshot, jpeg)
    return face, snapshot


def remove_pictures(root: Path, start: float, row_id: int) -> bool:
    """Delete a sighting's crop and snapshot (a stranger's, with STORE_UNKNOWN_IMAGES off); whether any was there."""
    removed = False
    for kind in ("face", "snapshot"):
        try:
            (root / day_folder(start) / f"{row_id}-{kind}.jpg").unlink()
            removed = True
        except FileNotFoundError:
            pass
    return removed
