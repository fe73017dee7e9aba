"""The request-analyse-publish loop of one inference worker process."""

from __future__ import annotations

import os
import socket
import threading
import time

import zmq

from services.infer.analyzer import CorruptFrame, analyze
from services.infer.reloader import GalleryReloader
from shared.bus import schema
from shared.bus.announce import ChangeCoalescer
from shared.bus.sockets import Publisher, Subscriber, limit_receive
from shared.config import Settings
from shared.faces import facelib
from shared.faces.matcher import Gallery
from shared.log import RateLimitedLog, setup_logging, untrusted

HEARTBEAT_S = 1.0
LOOP_POLL_MS = 100
"""How often an idle worker looks up from its sockets: bounds how late a new gallery is swapped in."""


def worker_name() -> str:
    """A name unique to this process: supervisor's program name (or host) and the pid."""
    base = os.environ.get("SUPERVISOR_PROCESS_NAME") or socket.gethostname()
    return f"{base}-{os.getpid()}"


class Worker:
    """The request-analyse-publish loop of one inference process."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop = stop
        self.name = worker_name()
        self.log = setup_logging(f"infer[{self.name}]", settings.log_level)
        self.bad = RateLimitedLog(self.log)
        context: zmq.Context = zmq.Context.instance()
        self.requests = context.socket(zmq.DEALER)
        self.requests.setsockopt(zmq.ROUTING_ID, self.name.encode())
        self.requests.setsockopt(zmq.IMMEDIATE, 1)
        self.requests.setsockopt(zmq.SNDHWM, 2)
        self.requests.setsockopt(zmq.LINGER, 0)
        limit_receive(self.requests)
        self.requests.connect(settings.bus_endpoint("dispatch"))
        self.seq = 0
        self.asked_at = 0.0
        self.people = Subscriber(settings, [schema.PEOPLE + "."], context)
        self.status = Publisher(settings, context)

    def _ask(self) -> None:
        self.asked_at = time.monotonic()
        try:
            self.requests.send_multipart(
                [schema.READY, schema.pack(schema.ReadyMessage(worker=self.name, seq=self.seq))], zmq.NOBLOCK
            )
        except zmq.Again:
            pass  # not connected yet: the heartbeat asks again

    def run(self) -> None:
        """Load the known faces, then serve frames until stopped, swapping in new known faces as they change."""
        facelib.load()
        reloader = GalleryReloader(self.settings, self.stop, self.log)
        gallery = reloader.load_now()
        reloader.start()
        self._announce(gallery, "started")
        self.log.info("ready; asking %s for frames", self.settings.bus_endpoint("dispatch"))
        poller = zmq.Poller()
        poller.register(self.requests, zmq.POLLIN)
        poller.register(self.people.socket, zmq.POLLIN)
        self._ask()
        changes = ChangeCoalescer()  # a burst of announcements makes one rebuild a second, the last one included
        while not self.stop.is_set():
            events = dict(poller.poll(LOOP_POLL_MS))
            if self.people.socket in events:
                for _ in range(100):  # what arrived, within reason: a flood must not keep the loop here
                    received = self.people.receive(0)
                    if received is None:
                        break
                    changes.note(received[1].change, time.monotonic())
            due = changes.due(time.monotonic())
            if due:
                reloader.request("; ".join(due))
            rebuilt = reloader.newest()
            if rebuilt is not None:
                gallery = rebuilt[0]
                self._announce(gallery, rebuilt[1])
            if self.requests not in events:
                if time.monotonic() - self.asked_at >= HEARTBEAT_S:
                    self._ask()
                continue
            parts = self.requests.recv_multipart(copy=False)
            received_at = time.time()
            try:
                work, header, jpeg = schema.parse_work([part.buffer for part in parts])
            except schema.SchemaError as error:
                self.bad.warning("dropped malformed work message", str(error))
                continue
            if work.seq != self.seq:
                continue  # an answer to an old request: its frame is stale
            self._process(work, header, jpeg, received_at, gallery)
            self.seq += 1
            self._ask()
        self.requests.close()
        self.people.close()
        self.status.close()

    def _announce(self, gallery: Gallery, reason: str) -> None:
        self.log.info("using %d known people (%d photos): %s", len(gallery.people), len(gallery), untrusted(reason))
        self.status.send(
            schema.WORKERS,
            self.name,
            schema.WorkerStatus(
                worker=self.name,
                people=list(gallery.people),
                photos=len(gallery),
                loaded_ts=time.time(),
                reason=reason[: schema.MAX_TEXT],
            ),
        )

    def _process(
        self,
        work: schema.WorkMessage,
        header: schema.FrameHeader,
        jpeg: memoryview,
        received_at: float,
        gallery: Gallery,
    ) -> None:
        try:
            motion = header.motion if work.search_motion else None
            analysis = analyze(jpeg, gallery, self.settings, work.tracks, motion, work.sweep)
        except CorruptFrame as error:
            self.bad.warning("skipped corrupt frame", f"{header.camera} frame {header.frame_id}: {error}")
            return
        timings = analysis.timings.model_copy(update={"queue_ms": round((received_at - header.ts) * 1000.0, 2)})
        done = schema.DoneMessage(
            worker=self.name,
            seq=self.seq,
            camera=header.camera,
            frame_id=header.frame_id,
            capture_ts=header.ts,
            width=analysis.width,
            height=analysis.height,
            detections=analysis.detections,
            timings=timings,
        )
        try:
            self.requests.send_multipart([schema.DONE, schema.pack(done)], zmq.NOBLOCK)
        except zmq.Again:
            self.bad.warning("result not delivered", "the dispatcher is unreachable")
