"""The dispatcher's socket loop: frames in from the bus, requests and findings in from workers, work and results out."""

from __future__ import annotations

import logging
import threading
import time

import zmq

from services.broker.scheduler import Assignment, FrameScheduler
from services.broker.sweep import Sweeps
from services.broker.tracker import CameraTracker
from shared.bus import schema
from shared.bus.announce import ChangeCoalescer
from shared.bus.roster import CameraRoster
from shared.bus.sockets import FRAME_HWM, Publisher, Subscriber, limit_receive
from shared.config import Settings
from shared.log import RateLimitedLog, untrusted

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 1.0


class Dispatcher:
    """Hands each idle worker the newest due frame; publishes its counts once a second."""

    def __init__(self, settings: Settings, context: zmq.Context, stop: threading.Event) -> None:
        self._stop = stop
        self.settings = settings
        self.scheduler = FrameScheduler(
            settings.every_n, settings.max_frame_age_s, settings.worker_silence_s, settings.adaptive_rate
        )
        self.trackers: dict[str, CameraTracker] = {}
        self.roster = CameraRoster(camera.name for camera in settings.cameras)
        self.sweeps = Sweeps(settings)
        self._frames = Subscriber(settings, [schema.FRAMES + ".", schema.PEOPLE + "."], context)
        self._workers = context.socket(zmq.ROUTER)
        self._workers.setsockopt(zmq.ROUTER_MANDATORY, 1)  # an unknown peer raises instead of a silent drop
        self._workers.setsockopt(zmq.LINGER, 0)
        # A worker holds one frame at a time: a peer with this many unread is not reading, and a send to it
        # fails at once (NOBLOCK, below) instead of stalling every camera or piling frames up in the broker.
        self._workers.setsockopt(zmq.SNDHWM, FRAME_HWM)
        limit_receive(self._workers, schema.MAX_BODY_BYTES + 1024)  # workers send ready and done, never a picture
        self._workers.bind(settings.bus_endpoint("dispatch", bind=True))
        self._publisher = Publisher(settings, context)  # results and counts go out on the bus
        self._bad = RateLimitedLog(log)
        self.unsent = 0
        """Messages to workers dropped because the peer was not reading (or gone)."""
        self.refused_done = 0
        """``done`` messages for work not handed to their sender."""
        self._people_changes = ChangeCoalescer()

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
            changes = self._people_changes.due(now)
            if changes:
                self._forget_names(changes)
            for assignment in self.scheduler.assignments(now):
                self._send(assignment)
            if now >= next_stats:
                for camera in self.roster.forget_silent(now):
                    self._forget_camera(camera)
                self._publish_stats()
                next_stats = now + STATS_INTERVAL_S

    def _take_frames(self, now: float) -> None:
        while self._frames.socket.poll(0):
            received = self._frames.receive(0)
            if received is None:
                continue
            kind, message, jpeg = received
            if kind == schema.PEOPLE:
                self._people_changes.note(message.change, now)  # acted on in run(), a burst at most once a second
                continue
            if not self.roster.admit(message.camera, now):
                self._bad.warning(
                    "ignored a camera too many", f"{message.camera}: the roster of learnt cameras is full"
                )
                continue
            self.scheduler.offer_frame(message, [schema.pack(message), jpeg], now)

    def _take_requests(self, now: float) -> None:
        while self._workers.poll(0):
            identity, *parts = self._workers.recv_multipart()
            try:
                message = schema.parse_worker_message(parts)
            except schema.SchemaError as error:
                self._bad.warning("dropped malformed worker message", str(error))
                continue
            if isinstance(message, schema.DoneMessage):
                if self.scheduler.work_done(identity, message.seq, message.camera, message.frame_id):
                    self._publish_result(message)
                else:
                    self.refused_done += 1
                    self._bad.warning(
                        "refused a done for work not handed to its sender",
                        f"{identity!r} seq {message.seq} camera {message.camera} frame {message.frame_id}",
                    )
            else:
                self.scheduler.worker_ready(identity, message.seq, now)

    def _forget_names(self, changes: list[str]) -> None:
        for tracker in self.trackers.values():
            tracker.forget_names()
        log.info("known people changed (%s): tracks will be named afresh", untrusted("; ".join(changes)))

    def _forget_camera(self, camera: str) -> None:
        """Drop everything kept for a learnt camera that fell silent: it starts afresh if it speaks again."""
        self.scheduler.forget_camera(camera)
        self.sweeps.forget(camera)
        self.trackers.pop(camera, None)
        log.info("forgot camera %s: silent for a while", camera)

    def tracker(self, camera: str) -> CameraTracker:
        """The camera's tracks, made on first use."""
        if camera not in self.trackers:
            self.trackers[camera] = CameraTracker(
                self.settings.reencode_s, self.settings.track_max_age_s, self.settings.track_iou
            )
        return self.trackers[camera]

    def _publish_result(self, done: schema.DoneMessage) -> None:
        faces = self.tracker(done.camera).update(done.detections, done.capture_ts)
        self._publisher.send(
            schema.FACES,
            done.camera,
            schema.Result(
                camera=done.camera,
                frame_id=done.frame_id,
                capture_ts=done.capture_ts,
                worker=done.worker,
                width=done.width,
                height=done.height,
                faces=faces,
                timings=done.timings,
                published_ts=time.time(),
                encoded=sum(d.name is not None for d in done.detections),
            ),
        )

    def _send(self, assignment: Assignment) -> None:
        header = assignment.frame.header
        hints = self.tracker(header.camera).hints(header.ts)
        sweep = self.sweeps.next_tile(header.camera, header.width, header.height, header.ts)
        search_motion = self.sweeps.motion_due(header.camera, header.ts)
        work = schema.WorkMessage(seq=assignment.seq, tracks=hints, sweep=sweep, search_motion=search_motion)
        body = schema.pack(work)
        try:
            self._workers.send_multipart(
                [assignment.worker, schema.WORK, body, *assignment.frame.parts], flags=zmq.NOBLOCK, copy=False
            )
        except zmq.ZMQError as error:
            # zmq.Again: the peer does not read (its queue is full); EHOSTUNREACH: it went away. Either way the
            # frame is not sent, the peer is forgotten until it asks again, and the frame goes back to the queue.
            self.unsent += 1
            why = "is not reading" if isinstance(error, zmq.Again) else f"is gone ({error})"
            self._bad.warning("frame not sent to a worker", f"worker {assignment.worker!r} {why}; frame requeued")
            self.scheduler.worker_lost(assignment.worker)
            self.scheduler.requeue(assignment)

    def _publish_stats(self) -> None:
        counts = self.scheduler.counts
        self._publisher.send(
            schema.STATS,
            "dispatcher",
            schema.DispatchStats(
                received=dict(counts.received),
                dispatched=dict(counts.dispatched),
                dropped=dict(counts.dropped),
                workers_ready=self.scheduler.workers_ready,
                workers_known=self.scheduler.workers_known,
                unsent=self.unsent,
                refused_done=self.refused_done,
            ),
        )
