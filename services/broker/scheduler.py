"""Which frame goes to which idle worker: the newest due frame, never a queue.

Kept free of sockets so the rule can be tested on its own. A frame is due when
its id is a multiple of ``every_n``, or (``adaptive``) when a worker is idle
and nothing of its camera is waiting: spare capacity analyses more frames, a
busy pool fewer, and nothing queues. A newer due frame of the same camera
replaces one still waiting (the older one is counted as dropped), so the
latency of a result never grows with load. Cameras take turns.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from shared.bus.schema import FrameHeader

HANDED_OUT_MAX_S = 60.0
"""How long the answer to a frame handed out is waited for: far longer than any frame takes to analyse."""


@dataclass
class PendingFrame:
    """A due frame waiting for a worker, with the raw bus parts to forward unchanged."""

    header: FrameHeader
    parts: list[Any]
    received_at: float


@dataclass
class Assignment:
    """Send this frame to this worker, answering its request number ``seq``."""

    worker: bytes
    seq: int
    frame: PendingFrame


@dataclass
class _Counters:
    received: dict[str, int] = field(default_factory=dict)
    dispatched: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    def add(self, table: dict[str, int], camera: str) -> None:
        table[camera] = table.get(camera, 0) + 1


class FrameScheduler:
    """Pairs idle workers with the newest due frame of each camera, round-robin."""

    def __init__(self, every_n: int, max_frame_age_s: float, worker_silence_s: float, adaptive: bool = False) -> None:
        self.every_n = every_n
        self.adaptive = adaptive
        self.max_frame_age_s = max_frame_age_s
        self.worker_silence_s = worker_silence_s
        self.counts = _Counters()
        self._pending: dict[str, PendingFrame] = {}
        self._camera_turns: list[str] = []
        self._ready: OrderedDict[bytes, int] = OrderedDict()
        self._last_seen: dict[bytes, float] = {}
        self._served_seq: dict[bytes, int] = {}
        self._handed_out: dict[bytes, tuple[int, str, int, float]] = {}
        """What each worker was last given: (seq, camera, frame_id, when); only that comes back as done."""

    def offer_frame(self, header: FrameHeader, parts: list[Any], now: float) -> None:
        """Take note of a frame from the bus; keep it if it is due."""
        camera = header.camera
        self.counts.add(self.counts.received, camera)
        spare_worker = self.adaptive and bool(self._ready) and camera not in self._pending
        if header.frame_id % self.every_n != 0 and not spare_worker:
            return
        if camera in self._pending:
            self.counts.add(self.counts.dropped, camera)
        else:
            self._camera_turns.append(camera)
        self._pending[camera] = PendingFrame(header, parts, now)

    def forget_camera(self, camera: str) -> None:
        """Drop a camera's waiting frame and counts (a camera learnt from the bus that fell silent)."""
        if self._pending.pop(camera, None) is not None:
            self._camera_turns.remove(camera)
        for table in (self.counts.received, self.counts.dispatched, self.counts.dropped):
            table.pop(camera, None)

    def worker_ready(self, worker: bytes, seq: int, now: float) -> None:
        """A worker asks for work (or repeats its request as a heartbeat)."""
        self._last_seen[worker] = now
        if seq <= self._served_seq.get(worker, -1):
            return  # a repeat of a request already answered: the work is on its way
        self._ready[worker] = seq

    def worker_lost(self, worker: bytes) -> None:
        """Forget a worker the transport says is gone (or that stopped reading): its work never reached it."""
        self._ready.pop(worker, None)
        self._last_seen.pop(worker, None)
        self._served_seq.pop(worker, None)
        self._handed_out.pop(worker, None)

    def work_done(self, worker: bytes, seq: int, camera: str, frame_id: int) -> bool:
        """Whether this is the answer to the work handed to this worker (once): any other ``done`` is refused."""
        if self._handed_out.get(worker, (None,))[:3] != (seq, camera, frame_id):
            return False
        del self._handed_out[worker]
        return True

    def requeue(self, assignment: Assignment) -> None:
        """Put back a frame whose worker vanished, unless a newer one took its place."""
        camera = assignment.frame.header.camera
        if camera not in self._pending:
            self._pending[camera] = assignment.frame
            self._camera_turns.insert(0, camera)
        self.counts.dispatched[camera] -= 1

    def _expire(self, now: float) -> None:
        for worker, seen in list(self._last_seen.items()):
            if now - seen > self.worker_silence_s:
                # A worker does not ask while it works: its answer is still welcome when it comes (below).
                self._ready.pop(worker, None)
                self._last_seen.pop(worker, None)
                self._served_seq.pop(worker, None)
        for worker, (*_, handed_at) in list(self._handed_out.items()):
            if now - handed_at > HANDED_OUT_MAX_S:
                del self._handed_out[worker]
        for camera in list(self._camera_turns):
            frame = self._pending[camera]
            if now - frame.received_at > self.max_frame_age_s:
                del self._pending[camera]
                self._camera_turns.remove(camera)
                self.counts.add(self.counts.dropped, camera)

    def assignments(self, now: float) -> list[Assignment]:
        """Every pairing of an idle worker with a waiting frame that can be made now."""
        self._expire(now)
        made: list[Assignment] = []
        while self._ready and self._camera_turns:
            camera = self._camera_turns.pop(0)
            frame = self._pending.pop(camera)
            worker, seq = self._ready.popitem(last=False)
            self._served_seq[worker] = seq
            self._handed_out[worker] = (seq, camera, frame.header.frame_id, now)
            self.counts.add(self.counts.dispatched, camera)
            made.append(Assignment(worker, seq, frame))
        return made

    @property
    def workers_ready(self) -> int:
        """Workers waiting for a frame now."""
        return len(self._ready)

    @property
    def workers_known(self) -> int:
        """Workers heard from within the silence limit."""
        return len(self._last_seen)
