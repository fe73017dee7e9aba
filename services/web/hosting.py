"""A browser's webcam as a camera: the JPEG frames a host sends over a WebSocket go on the bus as a capture's would.

The contract (README "Go live"; also usable without a browser): each binary
message is one JPEG frame; the server answers each with ``{"ack": frame_id}``,
pushes the camera's results as ``{"type": "result", ...}`` (the bus Result's
fields) and, once a second, ``{"type": "status", "viewers": n, "fps": x}``.
A frame that is not a JPEG gets ``{"type": "error", ...}`` and is skipped.
The host sends its next frame after the ack of the one before (or keeps a
few in flight): a slow network lowers the frame rate, it never builds a
backlog, and the server reads the socket no faster than it takes frames
(services/web/websocket.py). The frames go to the broker, so the workers, the
tracker, the streams and the API treat the camera like any other; when the
host leaves, the camera is offline at once and is forgotten a minute later.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import Literal

from services.web.state import BROWSER_SOURCE, CameraView
from services.web.websocket import POLICY_VIOLATION, Closed, WebSocket
from shared.bus import schema
from shared.bus.sockets import Publisher
from shared.config import CAMERA_NAME_PATTERN, Settings

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4_000_000
"""The largest frame a host may send (a 4K JPEG is ~1-2 MB)."""
HOST_SILENCE_S = 10.0
"""A host that sends no frame for this long is let go."""
STATUS_EVERY_S = 1.0
FPS_WINDOW_S = 2.0
RECEIVE_SLICE_S = 0.25
"""How long one wait for a frame lasts before the loop looks at the clock (status, silence)."""


class BusPublisher:
    """The web's one publisher on the bus, shared by every hosted camera (a ZeroMQ socket is not thread-safe)."""

    def __init__(self, settings: Settings, context_factory) -> None:  # type: ignore[no-untyped-def]
        self._settings = settings
        self._context_factory = context_factory
        self._lock = threading.Lock()
        self._publisher: Publisher | None = None

    def _open(self) -> Publisher:
        if self._publisher is None:  # made on the first host: a web without hosts connects nothing
            self._publisher = Publisher(self._settings, self._context_factory())
        return self._publisher

    def send_frame(self, header: schema.FrameHeader, jpeg: bytes) -> None:
        with self._lock:
            self._open().send_frame(header, jpeg)

    def send_status(self, status: schema.Status) -> None:
        with self._lock:
            self._open().send(schema.STATUS, status.camera, status)


class HostedCamera:
    """One host's session: take frames, ack them, publish them, and tell the host what is seen."""

    def __init__(self, socket: WebSocket, view: CameraView, bus: BusPublisher, who: str) -> None:
        self.socket = socket
        self.view = view
        self.bus = bus
        self.who = who
        self._send_lock = threading.Lock()
        self._recent: deque[float] = deque()
        self.frames = 0
        self.size = (0, 0)

    def send(self, message: dict) -> None:
        """One text message to the host (the frame loop and the result pusher both send)."""
        with self._send_lock:
            self.socket.send_text(json.dumps(message, separators=(",", ":")))

    def fps(self, now: float) -> float:
        """Frames taken per second over the last two seconds."""
        while self._recent and now - self._recent[0] > FPS_WINDOW_S:
            self._recent.popleft()
        return round(len(self._recent) / FPS_WINDOW_S, 1)

    def run(self) -> None:
        """Until the host leaves (or goes silent): then the camera goes offline."""
        log.info("%s is hosting camera %s from a browser", self.who, self.view.name)
        pusher = threading.Thread(target=self._push_results, name=f"results-{self.view.name}", daemon=True)
        pusher.start()
        last_frame = last_status = time.monotonic()
        try:
            while not self.socket.closed:
                message = self.socket.receive(RECEIVE_SLICE_S)
                now = time.monotonic()
                if isinstance(message, bytes):
                    last_frame = now
                    self._take(message)
                elif message is None and now - last_frame > HOST_SILENCE_S:
                    self.socket.close(1001, f"no frame for {HOST_SILENCE_S:.0f} s")
                if now - last_status >= STATUS_EVERY_S:
                    last_status = now
                    self.send({"type": "status", "viewers": self.view.viewers, "fps": self.fps(now)})
                    self._publish_status("live", "")
        except Closed:
            pass
        finally:
            self.socket.close()
            self.view.stop_hosting()
            self._publish_status("no_signal", "offline: its host left")
            pusher.join(timeout=2.0)
            log.info("camera %s: its host left after %d frames", self.view.name, self.frames)

    def _take(self, jpeg: bytes) -> None:
        """Every binary message gets the next frame id, taken or skipped, so the host's count and ours agree."""
        frame_id = self.frames
        self.frames += 1
        try:
            size = schema.check_jpeg(jpeg)
        except schema.SchemaError as problem:
            self.send({"type": "error", "error": str(problem), "skipped": True, "frame_id": frame_id})
            return
        self.size = size
        header = schema.FrameHeader(
            camera=self.view.name, frame_id=frame_id, ts=time.time(), width=size[0], height=size[1]
        )
        self.bus.send_frame(header, jpeg)
        self.send({"ack": frame_id})
        self._recent.append(time.monotonic())

    def _publish_status(self, state: Literal["live", "no_signal"], message: str) -> None:
        now = time.monotonic()
        self.bus.send_status(
            schema.Status(
                camera=self.view.name,
                state=state,
                source=BROWSER_SOURCE,
                fps=self.fps(now) if state == "live" else 0.0,
                width=self.size[0],
                height=self.size[1],
                last_frame_ts=time.time(),
                frames=self.frames,
                message=message,
            )
        )

    def _push_results(self) -> None:
        """Each new result of the camera to the host, as soon as the bus brings it."""
        newest = time.time()
        while not self.socket.closed:
            result = self.view.wait_result_newer(newest, timeout_s=1.0)
            if result is None:
                continue
            newest = result.capture_ts
            try:
                self.send({"type": "result", **result.model_dump(mode="json")})
            except Closed:
                return


def host(socket: WebSocket, camera: str, view: CameraView | None, bus: BusPublisher, who: str) -> None:
    """Run a host's session on the camera it claimed, or tell it why the name cannot be had."""
    if view is not None:
        HostedCamera(socket, view, bus, who).run()
        return
    reason = (
        f"camera name {camera!r} is taken (a server camera, or another host): choose another"
        if CAMERA_NAME_PATTERN.match(camera)
        else "a camera name is 1-32 letters, digits, '-' or '_'"
    )
    socket.send_text(json.dumps({"type": "error", "error": reason}))
    socket.close(POLICY_VIOLATION, reason[:120])
