"""Reading frames from a camera index, a video file or a stream URL, the same way.

A video file is looped and paced at its own frame rate so it behaves like a
camera; a camera or a stream paces itself. A source that cannot be opened or
stops giving frames is reopened with a growing pause, and the caller is told
so it can say "no signal" meanwhile.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from shared.sources import classify

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
MAX_SANE_FPS = 240.0


class FrameSource:
    """One opened source; ``read()`` returns the next frame or None when there is none."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.kind = classify(uri)
        self._capture: cv2.VideoCapture | None = None
        self.fps = DEFAULT_FPS
        self._next_due = 0.0

    def open(self) -> bool:
        """Open (or reopen) the source; False if it cannot be opened now."""
        self.close()
        if self.kind.is_file and not Path(str(self.kind.target)).is_file():
            log.warning("video file %s does not exist", self.kind.target)
            return False
        capture = cv2.VideoCapture(self.kind.target)
        if not capture.isOpened():
            capture.release()
            return False
        reported = capture.get(cv2.CAP_PROP_FPS) or 0.0
        self.fps = reported if 1.0 <= reported <= MAX_SANE_FPS else DEFAULT_FPS
        self._capture = capture
        self._next_due = time.monotonic()
        return True

    def read(self) -> np.ndarray | None:
        """The next frame, paced at the source's rate for files; None if the source failed."""
        if self._capture is None:
            return None
        ok, frame = self._capture.read()
        if (not ok or frame is None) and self.kind.is_file:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)  # loop the file like a camera
            ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        if self.kind.is_file:
            self._pace()
        return frame

    def _pace(self) -> None:
        self._next_due += 1.0 / self.fps
        delay = self._next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:  # far behind (machine was busy): do not burst to catch up
            self._next_due = time.monotonic()

    def close(self) -> None:
        """Release the source."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class Backoff:
    """Pauses between reopen attempts: 0.5 s doubling to 10 s, reset on success."""

    def __init__(self, first_s: float = 0.5, longest_s: float = 10.0) -> None:
        self.first_s = first_s
        self.longest_s = longest_s
        self.current_s = first_s

    def next_pause(self) -> float:
        """The pause to take now; the next one will be longer."""
        pause = self.current_s
        self.current_s = min(self.longest_s, self.current_s * 2)
        return pause

    def reset(self) -> None:
        """The source works again: start short next time."""
        self.current_s = self.first_s
