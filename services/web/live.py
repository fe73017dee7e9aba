"""What the page and the API say about each camera now, and the one events channel that carries it to a page.

A page used to poll /api/cameras and then /api/results once per camera every
two seconds: with six cameras that is seven requests per refresh, and each
waits for a free connection beside the page's six MJPEG streams. One
server-sent events stream (``/api/events``) carries every camera's status and
the faces in view instead, twice a second, on one connection for the page's
whole life; the browser's EventSource reconnects by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from services.web.api_models import CameraLive, CameraSummary, LiveUpdate
from services.web.state import BROWSER_SOURCE, CameraView, Hub
from shared.people.store import PeopleStore
from shared.redact import mask_uri

EVENTS_EVERY_S = 0.5
"""How often the events channel says where every camera stands: names appear within half a second."""
RECONNECT_MS = 2000
"""How long a browser waits before it reconnects a dropped events channel."""


def camera_summary(view: CameraView) -> CameraSummary:
    """What /api/cameras says of one camera."""
    packet, _, status, _ = view.snapshot()
    live = view.is_live()
    width = packet.header.width if packet else (status.width if status else 0)
    height = packet.header.height if packet else (status.height if status else 0)
    return CameraSummary(
        id=view.name,
        source=mask_uri(view.source),
        fps=status.fps if status and live else 0.0,
        resolution=(width, height) if width else None,
        status="live" if live else ("offline" if view.offline() else "no_signal"),
        message="" if live else (mask_uri(status.message) if status and status.message else "no frames yet"),
        last_frame_time=packet.header.ts if packet else None,
        viewers=view.viewers,
        hosted=view.source == BROWSER_SOURCE,
    )


def camera_live(view: CameraView) -> CameraLive:
    """A camera's summary and the faces in view: exactly the boxes drawn on its newest frame, so the caption
    never names someone without a box, nor says "no faces" under one."""
    summary = camera_summary(view)
    packet, result, _, _ = view.snapshot()
    return CameraLive(
        **summary.model_dump(),
        faces=view.faces_for(packet) if packet is not None else [],
        result_time=result.capture_ts if result is not None else None,
    )


class PeopleCount:
    """How many people are enrolled, read from the faces folder at most every few seconds (pages ask often)."""

    def __init__(self, store: PeopleStore, every_s: float = 5.0) -> None:
        self._store = store
        self._every_s = every_s
        self._lock = threading.Lock()
        self._count = 0
        self._read_at = float("-inf")

    def __call__(self) -> int:
        with self._lock:
            if time.monotonic() - self._read_at >= self._every_s:
                self._count, self._read_at = len(self._store.people()), time.monotonic()
            return self._count


def live_update(hub: Hub, known_people: Callable[[], int]) -> LiveUpdate:
    """Every camera as the page shows it."""
    cameras = [camera_live(view) for view in hub.cameras()]
    return LiveUpdate(cameras=cameras, known_people=known_people(), time=time.time())


def event(name: str, data: str) -> bytes:
    """One server-sent event (the data is one line of JSON)."""
    return f"event: {name}\ndata: {data}\n\n".encode()


def event_stream(hub: Hub, known_people: Callable[[], int], every_s: float = EVENTS_EVERY_S) -> Iterator[bytes]:
    """The ``cameras`` event, now and then every ``every_s``, for as long as the client listens."""
    yield f"retry: {RECONNECT_MS}\n".encode()  # part of the first event's block: a block of its own reads as an event
    while True:
        yield event("cameras", live_update(hub, known_people).model_dump_json())
        time.sleep(every_s)  # a greenlet's sleep under gevent, a thread's otherwise
