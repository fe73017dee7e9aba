"""The web service's view of each camera: newest frame, newest result, status.

One bus thread writes, many viewer threads read. Each camera's state is
guarded by its own condition variable; viewers wait on it for a frame newer
than the one they sent last, so a slow viewer skips to the newest frame and
never holds up the others. A frame with boxes is drawn and encoded once, by
the first viewer that needs it, and shared by all.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from services.web import overlay
from services.web.green import off_loop
from services.web.overlay import Blur
from shared.boxes import moved
from shared.bus import schema
from shared.bus.roster import FORGET_LEARNT_AFTER_S, MAX_LEARNT_CAMERAS
from shared.config import CAMERA_NAME_PATTERN
from shared.log import RateLimitedLog

RENDER_TROUBLE = RateLimitedLog(logging.getLogger(__name__))
"""Frames that could not be drawn, said once in a while whichever camera they came from."""
STALE_AFTER_S = 2.0
"""A camera with no frame for this long shows "no signal"."""
BROWSER_SOURCE = "browser"
"""The source shown for a camera a browser hosts."""
FORGET_HOSTED_AFTER_S = 60.0
"""A browser's camera whose host left is listed as offline this long, then forgotten."""
MAX_DELIVERY_SERVICES = 8
"""Services whose delivery counts /metrics shows (mqtt and notify exist): a forged name beyond it is ignored."""
RESULT_MAX_AGE_S = 1.0
"""Boxes older than this (relative to the frame drawn on) are not drawn: they would mislead."""


@dataclass(frozen=True)
class Packet:
    """One frame as received: ``seq`` counts frames in this process, whatever the camera's frame ids do."""

    seq: int
    header: schema.FrameHeader
    jpeg: bytes
    received_at: float


class CameraView:
    """Everything the web knows about one camera, safe to share between threads."""

    def __init__(self, name: str, source: str = "") -> None:
        self.name = name
        self.source = source
        self._changed = threading.Condition()
        self._packet: Packet | None = None
        self._result: schema.Result | None = None
        self._status: schema.Status | None = None
        self._status_at = 0.0
        self._render_lock = threading.Lock()
        self._rendered: dict[tuple[bool, Blur], tuple[int, bytes]] = {}
        self.viewers = 0
        self.hosted = False
        """A browser is sending this camera's frames now (Go live)."""
        self.host_left_at: float | None = None
        """When the browser that hosted this camera left (monotonic); None if none did."""
        self.learnt = False
        """Neither configured nor hosted here: it appeared on the bus (see :meth:`Hub.camera_seen`)."""
        self.heard_at = time.monotonic()
        """When the bus last said anything of this camera (monotonic)."""

    # Writers: the bus thread.
    def put_frame(self, header: schema.FrameHeader, jpeg: bytes) -> None:
        """Make a new frame the newest and wake the viewers."""
        with self._changed:
            seq = self._packet.seq + 1 if self._packet else 0
            self._packet = Packet(seq, header, jpeg, time.monotonic())
            self._changed.notify_all()

    def put_result(self, result: schema.Result) -> None:
        """Keep the newest result (an older frame's late result never replaces a newer one)."""
        with self._changed:
            if (
                self._result is None
                or result.capture_ts >= self._result.capture_ts
                or (
                    self._result.capture_ts - result.capture_ts > 10.0  # camera restarted
                )
            ):
                self._result = result
                self._changed.notify_all()

    def put_status(self, status: schema.Status) -> None:
        """Keep the capture process's latest word."""
        with self._changed:
            self._status = status
            self._status_at = time.monotonic()
            if not self.source:
                self.source = status.source

    # Readers: viewer and API threads.
    def wait_newer(self, after_seq: int, timeout_s: float) -> Packet | None:
        """The newest frame if it is newer than ``after_seq``, waiting up to the timeout."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._packet is not None and self._packet.seq != after_seq, timeout=timeout_s
            )
            packet = self._packet
        return packet if packet is not None and packet.seq != after_seq else None

    def wait_result_newer(self, after_ts: float, timeout_s: float) -> schema.Result | None:
        """The newest result if its frame is newer than ``after_ts``, waiting up to the timeout."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._result is not None and self._result.capture_ts > after_ts, timeout=timeout_s
            )
            result = self._result
        return result if result is not None and result.capture_ts > after_ts else None

    def latest_result(self) -> schema.Result | None:
        """The newest result, whatever its age."""
        with self._changed:
            return self._result

    def snapshot(self) -> tuple[Packet | None, schema.Result | None, schema.Status | None, float]:
        """Newest frame, result, status and when the status came, read together."""
        with self._changed:
            return self._packet, self._result, self._status, self._status_at

    def is_live(self, now: float | None = None) -> bool:
        """Whether a frame arrived recently enough to call the camera live."""
        with self._changed:
            packet, left, hosted = self._packet, self.host_left_at, self.hosted
        if packet is None or (left is not None and not hosted and left >= packet.received_at):
            return False  # its host left: offline at once, not after STALE_AFTER_S
        return (now or time.monotonic()) - packet.received_at < STALE_AFTER_S

    def start_hosting(self) -> bool:
        """A browser takes this camera; False if one hosts it already or its frames still come from elsewhere."""
        live = self.is_live()
        with self._changed:
            if self.hosted or (self.host_left_at is None and live):
                return False
            self.hosted, self.host_left_at, self.source = True, None, BROWSER_SOURCE
            return True

    def stop_hosting(self) -> None:
        """The browser hosting this camera left: offline now."""
        with self._changed:
            self.hosted, self.host_left_at = False, time.monotonic()
            self._changed.notify_all()

    def offline(self) -> bool:
        """A browser hosted this camera and has left."""
        with self._changed:
            return self.host_left_at is not None and not self.hosted

    def offline_for(self, now: float) -> float:
        """Seconds since the host of this camera left (0 while hosted, or if no browser ever hosted it)."""
        with self._changed:
            return now - self.host_left_at if self.host_left_at is not None and not self.hosted else 0.0

    def absence(self) -> str:
        """What a viewer is told while no frame comes."""
        return (
            f"camera {self.name}: offline (its host left)"
            if self.offline()
            else f"camera {self.name}: waiting for frames"
        )

    def faces_for(self, packet: Packet) -> list[schema.Face]:
        """The boxes to draw on this frame: the newest result's, if recent enough, moved to where each face is now.

        A result is a few frames older than the frame it is drawn on; each
        tracked face carries its motion, so its box follows the face instead
        of trailing it.
        """
        result = self.latest_result()
        age = packet.header.ts - result.capture_ts if result else 0.0
        if result is None or abs(age) > RESULT_MAX_AGE_S:
            return []
        return [face.model_copy(update={"box": moved(face.box, face.motion, age)}) for face in result.faces]

    def frame_jpeg(self, packet: Packet, boxes: bool, blur: Blur) -> bytes:
        """The frame as a viewer gets it (boxes drawn or not, faces blurred or not), rendered once per frame
        and kind however many viewers ask; the camera's own bytes when there is nothing to change."""
        if not boxes and blur == "none":
            return packet.jpeg
        kind = (boxes, blur)
        with self._render_lock:
            done = self._rendered.get(kind)
            if done is not None and done[0] == packet.seq:
                return done[1]
            try:
                rendered = off_loop(overlay.render, packet.jpeg, self.faces_for(packet), boxes, blur)
            except Exception as problem:  # noqa: BLE001 - a frame that cannot be drawn must not end every stream
                RENDER_TROUBLE.warning("could not draw a frame", f"camera {self.name}: {problem!r}")
                # Unchanged only when nothing had to be hidden: a blurred stream never shows a face it could not hide.
                rendered = packet.jpeg if blur == "none" else overlay.no_signal_card("this frame could not be drawn")
            self._rendered[kind] = (packet.seq, rendered)
            return rendered

    def add_viewer(self, delta: int) -> None:
        """Count a viewer joining (+1) or leaving (-1)."""
        with self._changed:
            self.viewers += delta


class Hub:
    """All cameras by name: the configured ones, those browsers host, and a bounded few that appear on the bus.

    A camera first heard of on the bus (a capture process on another machine) is *learnt*: its name must be a
    camera name (``CAMERA_NAME_PATTERN``), at most :data:`MAX_LEARNT_CAMERAS` are kept, and one silent for
    :data:`FORGET_LEARNT_AFTER_S` is forgotten. Configured cameras are always kept; browsers' cameras follow
    their hosts (:meth:`claim_host`, :meth:`CameraView.stop_hosting`).
    """

    def __init__(self, configured: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._cameras = {name: CameraView(name, source) for name, source in configured.items()}
        self._dispatch_stats: schema.DispatchStats | None = None
        self._delivery: dict[str, schema.DeliveryStats] = {}
        self._last_message_at = 0.0

    def heard_from_bus(self, stats: schema.DispatchStats | None = None) -> None:
        """Note that the bus is alive, and keep the dispatcher's latest counts."""
        with self._lock:
            self._last_message_at = time.monotonic()
            if stats is not None:
                self._dispatch_stats = stats

    def bus_silence_s(self) -> float:
        """Seconds since the last message of any kind from the bus."""
        with self._lock:
            return time.monotonic() - self._last_message_at

    def delivery_seen(self, stats: schema.DeliveryStats) -> None:
        """Keep a telling-others service's latest counts (the MQTT bridge's, the notify service's)."""
        with self._lock:
            if stats.service in self._delivery or len(self._delivery) < MAX_DELIVERY_SERVICES:
                self._delivery[stats.service] = stats

    def delivery_stats(self) -> list[schema.DeliveryStats]:
        """Every such service's latest counts."""
        with self._lock:
            return list(self._delivery.values())

    def dispatch_stats(self) -> schema.DispatchStats | None:
        """The dispatcher's latest counts, if any arrived."""
        with self._lock:
            return self._dispatch_stats

    def camera(self, name: str) -> CameraView | None:
        """The camera of that name, if known."""
        with self._lock:
            return self._cameras.get(name)

    def camera_seen(self, name: str) -> CameraView | None:
        """The camera the bus speaks of, learnt on first sight; None (ignore the message) for a name that is not
        a camera name, or a new one while :data:`MAX_LEARNT_CAMERAS` learnt cameras are all still speaking."""
        now = time.monotonic()
        with self._lock:
            view = self._cameras.get(name)
            if view is None:
                if not CAMERA_NAME_PATTERN.match(name):
                    return None
                if sum(view.learnt for view in self._cameras.values()) >= MAX_LEARNT_CAMERAS:
                    self._forget_silent(now)
                    if sum(view.learnt for view in self._cameras.values()) >= MAX_LEARNT_CAMERAS:
                        return None
                view = self._cameras[name] = CameraView(name)
                view.learnt = True
            view.heard_at = now
            return view

    def _forget_silent(self, now: float) -> None:
        """Drop browsers' cameras long after their host left, and learnt cameras long silent (under the lock)."""
        for name, view in list(self._cameras.items()):
            if view.offline_for(now) > FORGET_HOSTED_AFTER_S or (
                view.learnt and now - view.heard_at > FORGET_LEARNT_AFTER_S
            ):
                del self._cameras[name]

    def cameras(self) -> list[CameraView]:
        """Every camera, in name order (a browser's camera is forgotten a while after its host left, a learnt
        one after a while of silence)."""
        now = time.monotonic()
        with self._lock:
            self._forget_silent(now)
            return [self._cameras[name] for name in sorted(self._cameras)]

    def claim_host(self, name: str, configured: set[str]) -> CameraView | None:
        """The camera a browser will host under this name; None if the name is bad or taken (a server camera,
        another browser now, or a camera whose frames still arrive from elsewhere)."""
        with self._lock:
            if name in configured or not CAMERA_NAME_PATTERN.match(name):
                return None
            view = self._cameras.get(name)
            if view is None:
                view = self._cameras[name] = CameraView(name, BROWSER_SOURCE)
            if not view.start_hosting():
                return None
            view.learnt = False  # a camera once learnt from the bus is now this browser's, and follows its host
            return view
