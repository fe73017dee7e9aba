"""Issue 16: a bus that trusts no message's size or numbers, and a dispatcher no peer can stall.

The schema refuses what a forger could send (impossible numbers, odd camera names, bodies that unpack into too
much); the dispatcher's sends never block on a peer that does not read, and it believes a ``done`` only from the
worker it handed that work to; text from the bus is logged escaped; a burst of people.changed is acted on once.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time

import msgpack
import pytest
import zmq
from prometheus_client import generate_latest

from services.broker.dispatcher import Dispatcher
from services.broker.scheduler import FrameScheduler
from services.web.metrics import WebMetrics
from services.web.state import Hub
from shared.bus import schema
from shared.bus.announce import ChangeCoalescer
from shared.bus.roster import FORGET_LEARNT_AFTER_S, MAX_LEARNT_CAMERAS, CameraRoster
from shared.config import load_config
from shared.log import RateLimitedLog, untrusted
from tests.harness import free_port_block


def _result_body(**changes: object) -> dict:
    face = {"box": [0.1, 0.2, 0.3, 0.4], "name": "Ada", "confidence": 90.0, "motion": [0.0, 0.0]}
    face.update(changes.pop("face", {}))  # type: ignore[arg-type]
    body: dict = {
        "v": 1,
        "camera": "cam0",
        "frame_id": 1,
        "capture_ts": 1700000000.0,
        "worker": "w",
        "width": 640,
        "height": 360,
        "faces": [face],
        "timings": {"total_ms": 10.0},
        "published_ts": 1700000000.1,
    }
    body.update(changes)
    return body


def _unpack_result(body: dict) -> schema.Message:
    return schema.unpack_body([b"faces.cam0", msgpack.packb(body)])


def test_a_plain_result_is_accepted() -> None:
    assert isinstance(_unpack_result(_result_body()), schema.Result)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e300, -5.0])
def test_impossible_box_numbers_are_refused(bad: float) -> None:
    for index in range(4):
        box = [0.1, 0.2, 0.3, 0.4]
        box[index] = bad
        with pytest.raises(schema.SchemaError):
            _unpack_result(_result_body(face={"box": box}))


@pytest.mark.parametrize(
    "changes",
    [
        {"face": {"motion": [math.nan, 0.0]}},
        {"face": {"motion": [1e300, 0.0]}},
        {"face": {"confidence": math.inf}},
        {"face": {"distance": math.nan}},
        {"face": {"box": [0.1, 0.2, 0.0, 0.4]}},  # no width: not a face
        {"capture_ts": math.nan},
        {"capture_ts": 1e300},
        {"timings": {"total_ms": math.inf}},
        {"width": 10**9},
    ],
)
def test_non_finite_and_out_of_range_numbers_are_refused_everywhere(changes: dict) -> None:
    with pytest.raises(schema.SchemaError):
        _unpack_result(_result_body(**changes))


def test_boxes_slightly_past_an_edge_are_still_faces() -> None:
    result = _unpack_result(_result_body(face={"box": [-0.05, 0.9, 0.2, 0.2]}))
    assert isinstance(result, schema.Result) and result.faces[0].box == (-0.05, 0.9, 0.2, 0.2)


@pytest.mark.parametrize("name", ["", "../x", "a b", "x\ny", "<script>", "a" * 33, "é"])
def test_camera_names_must_be_camera_names(name: str) -> None:
    with pytest.raises(schema.SchemaError):
        _unpack_result(_result_body(camera=name))
    with pytest.raises(schema.SchemaError):
        header = {"v": 1, "camera": name, "frame_id": 0, "ts": 1.0, "width": 64, "height": 64}
        schema.unpack_frame([b"frames.x", msgpack.packb(header), b"\xff\xd8\xff\xd9"])


def test_a_body_that_would_unpack_into_millions_of_objects_is_refused_unread() -> None:
    size = 6_000_000
    huge = b"\xdd" + struct.pack(">I", size) + b"\x90" * size
    started = time.perf_counter()
    with pytest.raises(schema.SchemaError, match="bytes"):
        schema.unpack_body([b"faces.cam0", huge])
    assert time.perf_counter() - started < 0.1, "the size must be checked before anything is unpacked"


def test_a_small_body_with_too_long_an_array_or_string_is_refused() -> None:
    assert schema.unpack(schema.PeopleChanged, msgpack.packb({"v": 1, "change": "x", "ts": 1.0}))
    many = msgpack.packb({"v": 1, "change": "x", "ts": 1.0, "extra": [0] * (schema.MAX_BODY_ITEMS + 1)})
    with pytest.raises(schema.SchemaError, match="not msgpack"):
        schema.unpack(schema.PeopleChanged, many)
    long = msgpack.packb({"v": 1, "change": "x", "ts": 1.0, "extra": "x" * (schema.MAX_BODY_STR + 1)})
    with pytest.raises(schema.SchemaError, match="not msgpack"):
        schema.unpack(schema.PeopleChanged, long)


def test_log_text_from_the_bus_is_escaped_and_cut() -> None:
    assert untrusted("added Ada") == "added Ada"
    assert untrusted("Zoë") == "Zoë"
    forged = "x\n2024-01-01 broker INFO all is well\x1b[2J\u202e\u2028"
    shown = untrusted(forged)
    assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown and "\u2028" not in shown
    assert shown.startswith("x\\n2024") and "\\x1b" in shown and "\\u202e" in shown
    assert len(untrusted("a" * 10_000)) <= 210


def test_the_rate_limited_log_escapes_what_it_quotes(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        RateLimitedLog(logging.getLogger("t")).warning("bad", "line one\nFAKE line two")
    assert "\n" not in caplog.records[0].getMessage()


def test_a_burst_of_people_changes_is_acted_on_once_a_second_the_last_included() -> None:
    coalescer = ChangeCoalescer(interval_s=1.0)
    coalescer.note("first", 0.0)
    assert coalescer.due(0.0) == ["first"], "a single change is acted on at once"
    acted = []
    for step in range(1, 26):  # five a second for five seconds
        now = step * 0.2
        coalescer.note(f"change {step}", now)
        due = coalescer.due(now)
        if due:
            acted.append((now, due))
    assert len(acted) <= 5
    assert all(later - earlier >= 1.0 for (earlier, _), (later, _) in zip(acted, acted[1:]))
    last = coalescer.due(5.0 + 1.0)
    assert (last or acted[-1][1])[-1] == "change 25", "the last change is acted on"
    assert coalescer.due(10.0) is None


def test_a_done_is_believed_only_from_the_worker_given_that_work() -> None:
    scheduler = FrameScheduler(every_n=1, max_frame_age_s=1.0, worker_silence_s=3.0)
    header = schema.FrameHeader(camera="a", frame_id=7, ts=1.0, width=64, height=64)
    scheduler.offer_frame(header, [], now=0.0)
    scheduler.worker_ready(b"w1", seq=3, now=0.0)
    [assignment] = scheduler.assignments(now=0.0)
    assert assignment.worker == b"w1"
    assert not scheduler.work_done(b"rogue", 3, "a", 7), "another peer"
    assert not scheduler.work_done(b"w1", 4, "a", 7), "another request"
    assert not scheduler.work_done(b"w1", 3, "b", 7), "another camera"
    assert not scheduler.work_done(b"w1", 3, "a", 8), "another frame"
    assert scheduler.work_done(b"w1", 3, "a", 7)
    assert not scheduler.work_done(b"w1", 3, "a", 7), "only once"


def test_a_slow_worker_is_still_believed_after_its_silence() -> None:
    scheduler = FrameScheduler(every_n=1, max_frame_age_s=1.0, worker_silence_s=3.0)
    scheduler.offer_frame(schema.FrameHeader(camera="a", frame_id=1, ts=1.0, width=64, height=64), [], now=0.0)
    scheduler.worker_ready(b"w1", seq=0, now=0.0)
    scheduler.assignments(now=0.0)
    scheduler.assignments(now=10.0)  # ten seconds on one 4K frame: forgotten as idle, not as busy
    assert scheduler.work_done(b"w1", 0, "a", 1)


def test_a_learnt_camera_needs_a_camera_name_and_their_number_is_capped() -> None:
    hub = Hub({"front": "0"})
    assert hub.camera_seen("../x") is None
    for index in range(MAX_LEARNT_CAMERAS):
        assert hub.camera_seen(f"remote-{index}") is not None
    assert hub.camera_seen("one-too-many") is None
    assert hub.camera_seen("front") is not None, "configured cameras always"
    assert hub.camera_seen("remote-0") is not None, "known ones too"
    assert hub.claim_host("browser-cam", set()) is not None, "a browser may still go live"
    assert len(hub.cameras()) == MAX_LEARNT_CAMERAS + 2


def test_a_silent_learnt_camera_is_forgotten_and_makes_room(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Hub({"front": "0"})
    for index in range(MAX_LEARNT_CAMERAS):
        hub.camera_seen(f"remote-{index}")
    later = time.monotonic() + 600
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert hub.camera_seen("newcomer") is not None
    assert [view.name for view in hub.cameras()] == ["front", "newcomer"]


def test_a_peer_that_never_reads_cannot_stall_the_dispatcher() -> None:
    """A real dispatcher and a real DEALER on loopback: the peer asks for work again and again and reads nothing."""
    settings = load_config(bus_port=free_port_block(3), broker_host="127.0.0.1", broker_bind="127.0.0.1")
    context = zmq.Context()
    dispatcher = Dispatcher(settings, context, threading.Event())
    rogue = context.socket(zmq.DEALER)
    rogue.setsockopt(zmq.RCVHWM, 1)
    rogue.setsockopt(zmq.RCVBUF, 4096)
    rogue.setsockopt(zmq.LINGER, 0)
    rogue.connect(settings.bus_endpoint("dispatch"))
    jpeg = b"\xff\xd8" + bytes(200_000)
    finished = threading.Event()

    def serve_the_rogue() -> None:
        for seq in range(300):
            rogue.send_multipart([schema.READY, schema.pack(schema.ReadyMessage(worker="rogue", seq=seq))])
            if dispatcher._workers.poll(2000):
                dispatcher._take_requests(time.monotonic())
            header = schema.FrameHeader(camera="a", frame_id=seq, ts=1.0 + seq, width=64, height=64)
            dispatcher.scheduler.offer_frame(header, [schema.pack(header), jpeg], time.monotonic())
            for assignment in dispatcher.scheduler.assignments(time.monotonic()):
                dispatcher._send(assignment)
            if dispatcher.unsent:
                break
        finished.set()

    thread = threading.Thread(target=serve_the_rogue, daemon=True)
    thread.start()
    try:
        assert finished.wait(30), "the dispatcher blocked sending to a peer that does not read"
        assert dispatcher.unsent >= 1 and dispatcher.scheduler.workers_ready == 0
    finally:
        rogue.close()
        context.destroy(linger=0)


def test_the_roster_keeps_configured_cameras_and_a_bounded_few_learnt_ones() -> None:
    roster = CameraRoster(["front"])
    assert all(roster.admit(f"remote-{index}", now=0.0) for index in range(MAX_LEARNT_CAMERAS))
    assert not roster.admit("one-too-many", now=1.0) and roster.refused == 1
    assert roster.admit("front", now=1.0) and roster.admit("remote-0", now=1.0)
    assert sorted(roster.forget_silent(now=FORGET_LEARNT_AFTER_S + 0.5)) == sorted(
        f"remote-{index}" for index in range(1, MAX_LEARNT_CAMERAS)
    ), "all but remote-0, heard again at 1.0"
    assert roster.admit("newcomer", now=FORGET_LEARNT_AFTER_S + 1.0)


def test_the_dispatcher_forgets_everything_of_a_silent_learnt_camera() -> None:
    settings = load_config(bus_port=free_port_block(3), broker_host="127.0.0.1", broker_bind="127.0.0.1")
    context = zmq.Context()
    dispatcher = Dispatcher(settings, context, threading.Event())
    try:
        header = schema.FrameHeader(camera="remote", frame_id=0, ts=1.0, width=64, height=64)
        assert dispatcher.roster.admit("remote", now=0.0)
        dispatcher.scheduler.offer_frame(header, [], now=0.0)
        dispatcher.tracker("remote")
        dispatcher.sweeps.motion_due("remote", 1.0)
        for camera in dispatcher.roster.forget_silent(now=FORGET_LEARNT_AFTER_S + 1):
            dispatcher._forget_camera(camera)
        counts = dispatcher.scheduler.counts
        assert "remote" not in dispatcher.trackers and "remote" not in counts.received
        assert dispatcher.scheduler.assignments(now=FORGET_LEARNT_AFTER_S + 1) == []
        assert dispatcher.sweeps.motion_due("remote", 1.0), "its pace starts afresh"
    finally:
        context.destroy(linger=0)


def test_metrics_of_forgotten_cameras_are_dropped_but_a_watched_one_keeps_its_viewers() -> None:
    metrics = WebMetrics(Hub({}))
    for camera in ("kept", "forged", "watched"):
        metrics.frames_captured.labels(camera).inc()
    metrics.viewers.labels("watched").inc()
    metrics.forget_cameras({"kept"})
    exposed = generate_latest(metrics.registry).decode()
    assert 'frames_captured_total{camera="kept"}' in exposed
    assert 'camera="forged"' not in exposed
    assert 'facestream_viewers{camera="watched"} 1.0' in exposed
