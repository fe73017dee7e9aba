"""MJPEG over HTTP: one multipart part per frame, each with its frame id and capture time."""

from __future__ import annotations

import time
from collections.abc import Iterator

from services.web import overlay
from services.web.metrics import WebMetrics
from services.web.overlay import Blur
from services.web.state import CameraView

BOUNDARY = "frame"
NO_SIGNAL_EVERY_S = 1.0


def part(jpeg: bytes, frame_id: int, capture_ts: float) -> bytes:
    """One multipart part: headers, the JPEG, and the line end before the next boundary."""
    head = (
        f"--{BOUNDARY}\r\n"
        "Content-Type: image/jpeg\r\n"
        f"Content-Length: {len(jpeg)}\r\n"
        f"X-Frame-Id: {frame_id}\r\n"
        f"X-Capture-Time: {capture_ts:.6f}\r\n\r\n"
    ).encode("ascii")
    return head + jpeg + b"\r\n"


def stream(view: CameraView, boxes: bool, blur: Blur, metrics: WebMetrics) -> Iterator[bytes]:
    """Every new frame of the camera as it comes; a "no signal" card when none comes."""
    view.add_viewer(1)
    metrics.viewers.labels(view.name).inc()
    frames_streamed = metrics.frames_streamed.labels(view.name)
    no_signal: bytes | None = None
    no_signal_says = ""
    try:
        last_seq = -1
        while True:
            packet = view.wait_newer(last_seq, timeout_s=NO_SIGNAL_EVERY_S)
            if packet is None or not view.is_live():
                said = view.absence()
                if no_signal is None or said != no_signal_says:
                    no_signal, no_signal_says = overlay.no_signal_card(said), said
                yield part(no_signal, -1, time.time())
                if packet is None:
                    continue
            last_seq = packet.seq
            jpeg = view.frame_jpeg(packet, boxes, blur)
            frames_streamed.inc()
            yield part(jpeg, packet.header.frame_id, packet.header.ts)
    finally:
        view.add_viewer(-1)
        metrics.viewers.labels(view.name).dec()
