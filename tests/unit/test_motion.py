"""Capture's motion regions: something that moves is boxed, a still or re-lit picture is not."""

from __future__ import annotations

import numpy as np

from services.capture.motion import MotionDetector


def _background(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(60, 120, size=(1080, 1920, 3), dtype=np.uint8)


def _noisy(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(frame.astype(np.int16) + rng.integers(-4, 5, size=frame.shape), 0, 255).astype(np.uint8)


def test_a_moving_face_sized_patch_is_boxed_where_it_is() -> None:
    rng = np.random.default_rng(1)
    background = _background(rng)
    detector = MotionDetector()
    patch = np.full((48, 40, 3), 230, dtype=np.uint8)  # a 40x48 px "face" on a 1080p frame
    found = []
    for step in range(12):
        frame = _noisy(background, rng)
        left, top = 600 + 8 * step, 300
        frame[top : top + 48, left : left + 40] = patch
        found = detector.regions(frame, at=step * 0.1)
    assert found, "a moving patch must be seen"
    inside = [
        (x, y, w, h)
        for x, y, w, h in found
        if x * 1920 <= left + 20 <= (x + w) * 1920 and y * 1080 <= 324 <= (y + h) * 1080
    ]
    assert inside and all(w < 0.2 and h < 0.2 for _, _, w, h in found)


def test_a_still_picture_with_sensor_noise_has_no_motion() -> None:
    rng = np.random.default_rng(2)
    background = _background(rng)
    detector = MotionDetector()
    regions = [detector.regions(_noisy(background, rng), at=step * 0.1) for step in range(10)]
    assert all(found == [] for found in regions)


def test_the_lights_going_on_is_not_motion() -> None:
    rng = np.random.default_rng(3)
    background = _background(rng)
    detector = MotionDetector()
    for step in range(5):
        detector.regions(_noisy(background, rng), at=step * 0.1)
    brighter = np.clip(background.astype(np.int16) + 60, 0, 255).astype(np.uint8)
    assert detector.regions(brighter, at=0.5) == []
    assert detector.regions(_noisy(brighter, rng), at=0.6) == []  # the new light is the background now
