"""The web's per-camera state: newest frame wins, each frame is drawn once, old boxes are not drawn."""

from __future__ import annotations

import threading
from unittest import mock

import cv2
import numpy as np
import pytest

from services.web import overlay
from services.web.state import CameraView
from shared.bus import schema


def _jpeg() -> bytes:
    return cv2.imencode(".jpg", np.full((90, 160, 3), 128, np.uint8))[1].tobytes()


def _header(frame_id: int, ts: float) -> schema.FrameHeader:
    return schema.FrameHeader(camera="c", frame_id=frame_id, ts=ts, width=160, height=90)


def _result(ts: float) -> schema.Result:
    face = schema.Face(box=(0.1, 0.1, 0.3, 0.5), name="Ada", distance=0.3, confidence=99.0)
    return schema.Result(
        camera="c",
        frame_id=0,
        capture_ts=ts,
        worker="w",
        width=160,
        height=90,
        faces=[face],
        timings=schema.Timings(),
        published_ts=ts,
    )


def test_a_slow_viewer_skips_to_the_newest_frame() -> None:
    view = CameraView("c")
    for frame_id in range(5):
        view.put_frame(_header(frame_id, 100.0 + frame_id), _jpeg())
    packet = view.wait_newer(-1, timeout_s=0.1)
    assert packet is not None and packet.header.frame_id == 4
    assert view.wait_newer(packet.seq, timeout_s=0.05) is None


def test_a_waiting_viewer_wakes_for_a_new_frame() -> None:
    view = CameraView("c")
    got = []
    viewer = threading.Thread(target=lambda: got.append(view.wait_newer(-1, timeout_s=5)))
    viewer.start()
    view.put_frame(_header(7, 1.0), _jpeg())
    viewer.join(5)
    assert got and got[0].header.frame_id == 7


def test_each_frame_is_drawn_once_for_every_viewer() -> None:
    view = CameraView("c")
    view.put_frame(_header(0, 100.0), _jpeg())
    view.put_result(_result(100.0))
    packet = view.wait_newer(-1, 0.1)
    with mock.patch.object(overlay, "render", wraps=overlay.render) as render:
        drawn = {view.frame_jpeg(packet, boxes=True, blur="none") for _ in range(20)}
    assert render.call_count == 1 and len(drawn) == 1 and drawn != {packet.jpeg}


def test_boxes_from_a_much_older_frame_are_not_drawn() -> None:
    view = CameraView("c")
    view.put_result(_result(100.0))
    view.put_frame(_header(90, 103.0), _jpeg())
    assert view.faces_for(view.wait_newer(-1, 0.1)) == []


def test_a_late_result_never_replaces_a_newer_one() -> None:
    view = CameraView("c")
    view.put_result(_result(100.0))
    view.put_result(_result(99.5))
    assert view.latest_result().capture_ts == 100.0


def _textured_frame() -> tuple[np.ndarray, bytes]:
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 255, size=(360, 640, 3), dtype=np.uint8)
    return frame, cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def _sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


@pytest.mark.parametrize(("blur", "hidden"), [("unknown", {"Unknown"}), ("all", {"Unknown", "Ada"}), ("none", set())])
def test_blur_hides_the_faces_the_setting_names_and_nothing_else(blur: str, hidden: set[str]) -> None:
    _, jpeg = _textured_frame()
    stranger = schema.Face(box=(0.1, 0.2, 0.2, 0.3), name="Unknown", confidence=90.0)
    ada = schema.Face(box=(0.6, 0.2, 0.2, 0.3), name="Ada", confidence=90.0)
    out = cv2.imdecode(np.frombuffer(overlay.render(jpeg, [stranger, ada], boxes=False, blur=blur), np.uint8), 1)
    original = cv2.imdecode(np.frombuffer(jpeg, np.uint8), 1)
    regions = {"Unknown": (slice(100, 160), slice(90, 170)), "Ada": (slice(100, 160), slice(410, 490))}
    for name, (rows, columns) in regions.items():
        flattened = _sharpness(out[rows, columns]) < 0.2 * _sharpness(original[rows, columns])
        assert flattened == (name in hidden), (blur, name)
    corner = (slice(300, 360), slice(0, 60))  # no face there: untouched whatever the setting
    assert _sharpness(out[corner]) > 0.8 * _sharpness(original[corner])


@pytest.mark.parametrize("blur", ["none", "unknown"])
def test_a_frame_that_cannot_be_drawn_keeps_the_stream_going_and_hides_what_it_must(blur: str) -> None:
    view = CameraView("c")
    view.put_frame(_header(0, 100.0), _jpeg())
    view.put_result(_result(100.0))
    packet = view.wait_newer(-1, 0.1)
    with mock.patch.object(overlay, "render", side_effect=OSError("no font")):  # a fault made on purpose
        sent = view.frame_jpeg(packet, boxes=True, blur=blur)  # type: ignore[arg-type]
    if blur == "none":
        assert sent == packet.jpeg
    else:
        assert sent != packet.jpeg and cv2.imdecode(np.frombuffer(sent, np.uint8), 1) is not None
