"""One camera's capture loop: read, JPEG-encode once, publish; say "no signal" while the source is down.

Each frame is JPEG-encoded once here; everything downstream (workers, web
viewers, other subscribers) shares those bytes.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from services.capture.motion import MotionDetector
from services.capture.source import Backoff, FrameSource
from shared.bus import schema
from shared.bus.sockets import FrameTooLarge, Publisher
from shared.config import Camera, Settings
from shared.faces.regions import smallest_face_wanted
from shared.log import RateLimitedLog, setup_logging
from shared.redact import mask_uri

STATUS_INTERVAL_S = 1.0


class CaptureService:
    """Reads one camera, publishes its frames and, once a second, its status."""

    def __init__(self, settings: Settings, camera: Camera, stop: threading.Event) -> None:
        self.settings = settings
        self.camera = camera
        self.stop = stop
        self.source = FrameSource(camera.uri)
        self.shown_uri = mask_uri(camera.uri)
        """The source as it may be shown (status, logs): its password masked."""
        self.motion = MotionDetector()
        self.publisher = Publisher(settings)
        self.frame_id = 0
        self.width = 0
        self.height = 0
        self.last_frame_ts = 0.0
        self._next_status = 0.0
        self._fps_window: list[float] = []
        self.log = setup_logging(f"capture[{camera.name}]", settings.log_level)
        self._too_large = RateLimitedLog(self.log)

    def run(self) -> None:
        """Capture until stopped, reopening the source whenever it fails."""
        backoff = Backoff()
        while not self.stop.is_set():
            if not self.source.open():
                self._no_signal(f"cannot open {self.shown_uri}", backoff)
                continue
            self.log.info("opened %s (%.2f fps)", self.shown_uri, self.source.fps)
            backoff.reset()
            while not self.stop.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                self._publish(frame)
            if not self.stop.is_set():
                self._no_signal(f"{self.shown_uri} stopped giving frames", backoff)
        self.source.close()
        self.publisher.close()

    def _publish(self, frame: np.ndarray) -> None:
        captured_at = time.time()
        wanted = smallest_face_wanted(self.settings.min_face_px, frame.shape[0]) > 0
        motion = self.motion.regions(frame) if wanted else None
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality])
        if not ok:
            self.log.warning("JPEG encoding failed for frame %d; skipped", self.frame_id)
            return
        self.height, self.width = frame.shape[:2]
        header = schema.FrameHeader(
            camera=self.camera.name,
            frame_id=self.frame_id,
            ts=captured_at,
            width=self.width,
            height=self.height,
            motion=motion,
        )
        try:
            self.publisher.send_frame(header, jpeg.data)
        except FrameTooLarge as error:
            self._too_large.warning("frame not published", f"{error}; lower JPEG_QUALITY")
            return
        self.frame_id += 1
        self.last_frame_ts = captured_at
        self._fps_window.append(captured_at)
        if len(self._fps_window) > 60:
            self._fps_window.pop(0)
        if time.monotonic() >= self._next_status:
            self._send_status("live", "")

    def _measured_fps(self) -> float:
        window = self._fps_window
        if len(window) < 2 or window[-1] <= window[0]:
            return 0.0
        return (len(window) - 1) / (window[-1] - window[0])

    def _send_status(self, state: str, message: str) -> None:
        self._next_status = time.monotonic() + STATUS_INTERVAL_S
        self.publisher.send(
            schema.STATUS,
            self.camera.name,
            schema.Status(
                camera=self.camera.name,
                state=state,
                source=self.shown_uri,
                fps=round(self._measured_fps() if state == "live" else 0.0, 2),
                width=self.width,
                height=self.height,
                last_frame_ts=self.last_frame_ts,
                frames=self.frame_id,
                message=message,
            ),
        )

    def _no_signal(self, reason: str, backoff: Backoff) -> None:
        pause = backoff.next_pause()
        self.log.warning("no signal: %s; retrying in %.1f s", reason, pause)
        self._fps_window.clear()
        deadline = time.monotonic() + pause
        while not self.stop.is_set() and time.monotonic() < deadline:
            self._send_status("no_signal", reason)
            self.stop.wait(min(STATUS_INTERVAL_S, max(0.0, deadline - time.monotonic())))
