"""The dispatcher's socket loop: frames in from the bus, requests in from workers, work out."""

from __future__ import annotations

import logging
import threading
import time

import zmq

from services.broker import dispatch_protocol as protocol
from services.broker.scheduler import Assignment, FrameScheduler
from shared import schema
from shared.bus import Publisher, Subscriber
from shared.config import Settings
from shared.log import RateLimitedLog

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 1.0


class Dispatcher:
    """Hands each idle worker the newest due frame; publishes its counts once a second."""

    def __init__(self, settings: Settings, context: zmq.Context, stop: threading.Event) -> None:
        self._stop = stop
        self.scheduler = FrameScheduler(settings.every_n, settings.max_frame_age_s, settings.worker_silence_s)
        self._frames = Subscriber(settings, [schema.FRAMES + "."], context)
        self._workers = context.socket(zmq.ROUTER)
        self._workers.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._workers.setsockopt(zmq.LINGER, 0)
        self._workers.bind(settings.bus_endpoint("dispatch", bind=True))
        self._stats = Publisher(settings, context)
        self._bad = RateLimitedLog(log)

    def run(self) -> None:
        """Serve until the stop event is set."""
        poller = zmq.Poller()
        poller.register(self._frames.socket, zmq.POLLIN)
        poller.register(self._workers, zmq.POLLIN)
        next_stats = time.monotonic() + STATS_INTERVAL_S
        while not self._stop.is_set():
            events = dict(poller.poll(100))
            now = time.monotonic()
            if self._frames.socket in events:
                self._take_frames(now)
            if self._workers in events:
                self._take_requests(now)
            for assignment in self.scheduler.assignments(now):
                self._send(assignment)
            if now >= next_stats:
                self._publish_stats()
                next_stats = now + STATS_INTERVAL_S

    def _take_frames(self, now: float) -> None:
        while self._frames.socket.poll(0):
            received = self._frames.receive(0)
            if received is None:
                continue
            _, header, jpeg = received
            self.scheduler.offer_frame(header, [schema.pack(header), jpeg], now)

    def _take_requests(self, now: float) -> None:
        while self._workers.poll(0):
            identity, *parts = self._workers.recv_multipart()
            try:
                ready = protocol.parse_ready(parts)
            except schema.SchemaError as error:
                self._bad.warning("dropped malformed worker request", str(error))
                continue
            self.scheduler.worker_ready(identity, ready.seq, now)

    def _send(self, assignment: Assignment) -> None:
        body = schema.pack(protocol.WorkMessage(seq=assignment.seq))
        try:
            self._workers.send_multipart(
                [assignment.worker, protocol.WORK, body, *assignment.frame.parts], copy=False
            )
        except zmq.ZMQError as error:  # EHOSTUNREACH: the worker went away
            log.warning("worker %s is gone (%s); frame goes back to the queue", assignment.worker, error)
            self.scheduler.worker_lost(assignment.worker)
            self.scheduler.requeue(assignment)

    def _publish_stats(self) -> None:
        counts = self.scheduler.counts
        self._stats.send(
            schema.STATS,
            "dispatcher",
            schema.DispatchStats(
                received=dict(counts.received),
                dispatched=dict(counts.dispatched),
                dropped=dict(counts.dropped),
                workers_ready=self.scheduler.workers_ready,
                workers_known=self.scheduler.workers_known,
            ),
        )
