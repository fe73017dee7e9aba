"""The web service's bus thread: feeds frames, results and status into the hub."""

from __future__ import annotations

import logging
import threading
import time

from services.web.green import bus_context
from services.web.metrics import WebMetrics
from services.web.state import Hub
from shared.bus import schema
from shared.bus.sockets import Subscriber
from shared.config import Settings

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 10.0
"""How often the metrics of cameras the hub forgot are dropped."""


class BusListener(threading.Thread):
    """Subscribes to everything the page shows and keeps the hub current."""

    def __init__(self, settings: Settings, hub: Hub, metrics: WebMetrics) -> None:
        super().__init__(name="bus-listener", daemon=True)
        self._settings = settings
        self._hub = hub
        self._metrics = metrics
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Ask the thread to finish."""
        self._stop_event.set()

    def run(self) -> None:
        subscriber = Subscriber(
            self._settings,
            [f"{kind}." for kind in (schema.FRAMES, schema.FACES, schema.STATUS, schema.STATS, schema.DELIVERY)],
            bus_context(),
        )
        bad_before = 0
        next_prune = time.monotonic() + PRUNE_EVERY_S
        while not self._stop_event.is_set():
            received = subscriber.receive(200)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_S
                self._metrics.forget_cameras({view.name for view in self._hub.cameras()})
            bad_now = sum(subscriber.bad.total.values())
            if bad_now != bad_before:
                self._metrics.bad_messages.inc(bad_now - bad_before)
                bad_before = bad_now
            if received is None:
                continue
            kind, message, jpeg = received
            self._hub.heard_from_bus(message if kind == schema.STATS else None)
            if kind == schema.STATS:
                continue
            if kind == schema.DELIVERY:
                self._hub.delivery_seen(message)
                continue
            view = self._hub.camera_seen(message.camera)
            if view is None:
                continue  # a camera too many learnt from the bus (see Hub.camera_seen)
            if kind == schema.FRAMES:
                view.put_frame(message, bytes(jpeg))
                self._metrics.frames_captured.labels(message.camera).inc()
            elif kind == schema.FACES:
                view.put_result(message)
                self._metrics.frames_analysed.labels(message.camera).inc()
                self._metrics.inference_ms.labels(message.camera).observe(message.timings.total_ms)
            elif kind == schema.STATUS:
                view.put_status(message)
        subscriber.close()
