"""The dispatcher's rule: an idle worker gets the newest due frame; nothing queues up."""

from __future__ import annotations

from services.broker.scheduler import FrameScheduler
from shared.bus.schema import FrameHeader


def _frame(camera: str, frame_id: int) -> FrameHeader:
    return FrameHeader(camera=camera, frame_id=frame_id, ts=float(frame_id), width=640, height=360)


def _scheduler(every_n: int = 2) -> FrameScheduler:
    return FrameScheduler(every_n=every_n, max_frame_age_s=1.0, worker_silence_s=3.0)


def test_a_worker_gets_the_newest_due_frame_and_older_ones_are_dropped() -> None:
    scheduler = _scheduler()
    for frame_id in range(7):  # due: 0, 2, 4, 6
        scheduler.offer_frame(_frame("a", frame_id), [], now=0.0)
    scheduler.worker_ready(b"w1", seq=0, now=0.0)
    [assignment] = scheduler.assignments(now=0.0)
    assert assignment.frame.header.frame_id == 6 and assignment.worker == b"w1"
    assert scheduler.counts.dropped == {"a": 3} and scheduler.counts.received == {"a": 7}


def test_frames_wait_for_no_one_when_no_worker_is_idle() -> None:
    scheduler = _scheduler(every_n=1)
    scheduler.offer_frame(_frame("a", 0), [], now=0.0)
    assert scheduler.assignments(now=0.1) == []
    scheduler.worker_ready(b"w1", 0, now=1.5)
    assert scheduler.assignments(now=1.5) == [], "a frame older than max_frame_age_s is never handed out"


def test_cameras_take_turns() -> None:
    scheduler = _scheduler(every_n=1)
    served = []
    for step in range(4):
        scheduler.offer_frame(_frame("a", step), [], now=0.0)
        scheduler.offer_frame(_frame("b", step), [], now=0.0)
        scheduler.worker_ready(b"w1", step, now=0.0)
        served += [a.frame.header.camera for a in scheduler.assignments(now=0.0)]
    assert served == ["a", "b", "a", "b"]


def test_a_repeated_request_gets_only_one_frame() -> None:
    scheduler = _scheduler(every_n=1)
    scheduler.worker_ready(b"w1", 0, now=0.0)
    scheduler.offer_frame(_frame("a", 0), [], now=0.0)
    assert len(scheduler.assignments(now=0.0)) == 1
    scheduler.worker_ready(b"w1", 0, now=0.5)  # heartbeat repeating the answered request
    scheduler.offer_frame(_frame("a", 1), [], now=0.5)
    assert scheduler.assignments(now=0.5) == []


def test_a_silent_worker_is_forgotten() -> None:
    scheduler = _scheduler(every_n=1)
    scheduler.worker_ready(b"w1", 0, now=0.0)
    assert scheduler.workers_known == 1
    scheduler.offer_frame(_frame("a", 0), [], now=3.5)
    assert scheduler.assignments(now=3.5) == [] and scheduler.workers_known == 0


def test_a_frame_whose_worker_vanished_goes_back_unless_a_newer_one_came() -> None:
    scheduler = _scheduler(every_n=1)
    scheduler.worker_ready(b"w1", 0, now=0.0)
    scheduler.offer_frame(_frame("a", 0), [], now=0.0)
    [lost] = scheduler.assignments(now=0.0)
    scheduler.worker_lost(b"w1")
    scheduler.requeue(lost)
    scheduler.worker_ready(b"w2", 0, now=0.1)
    [retry] = scheduler.assignments(now=0.1)
    assert retry.frame.header.frame_id == 0 and retry.worker == b"w2"
    assert scheduler.counts.dispatched == {"a": 1}


def test_adaptive_rate_gives_an_idle_worker_frames_between_the_due_ones() -> None:
    scheduler = FrameScheduler(every_n=3, max_frame_age_s=1.0, worker_silence_s=3.0, adaptive=True)
    scheduler.worker_ready(b"w1", 0, now=0.0)
    scheduler.offer_frame(_frame("a", 1), [], now=0.0)  # not due, but a worker is idle
    [assignment] = scheduler.assignments(now=0.0)
    assert assignment.frame.header.frame_id == 1
    scheduler.offer_frame(_frame("a", 2), [], now=0.1)  # no worker idle now: only due frames wait
    scheduler.worker_ready(b"w1", 1, now=0.2)
    assert scheduler.assignments(now=0.2) == []
