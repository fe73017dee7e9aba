"""Small rules the services depend on: detection size, source kinds, reconnect pauses."""

from __future__ import annotations

import pytest

from services.capture.source import Backoff
from services.web.overlay import label_text
from shared.bus import schema
from shared.faces.regions import detection_scale
from shared.sources import classify


@pytest.mark.parametrize(
    ("width", "expected"),
    [(640, 0.5), (1280, 0.25), (1920, 0.25), (320, 1.0), (200, 1.0)],
)
def test_detection_never_runs_below_the_minimum_width(width: int, expected: float) -> None:
    assert detection_scale(width, scale=0.25, min_detect_width=320) == pytest.approx(expected)


def test_sources_are_told_apart() -> None:
    assert classify("0").target == 0 and not classify("0").is_file
    assert classify("rtsp://cam/live").is_file is False
    assert classify("file:///tmp/a.mp4").target == "/tmp/a.mp4" and classify("clip.mp4").is_file


def test_reconnect_pauses_grow_to_a_limit_and_reset() -> None:
    backoff = Backoff(first_s=0.5, longest_s=4.0)
    assert [backoff.next_pause() for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_pause() == 0.5


def test_the_drawn_confidence_never_rounds_up_to_certainty() -> None:
    face = schema.Face(box=(0.1, 0.1, 0.2, 0.2), name="Ada", distance=0.3, confidence=99.6)
    assert label_text(face) == "Ada 99%"
