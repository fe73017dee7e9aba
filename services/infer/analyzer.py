"""One frame in, named face boxes out: decode, downscale, detect, encode, match.

Detection runs on a downscaled copy (it is the expensive, resolution-bound
step); encoding runs on the full-resolution frame at the scaled-up boxes,
because the encoder cuts a 150x150 chip whatever the input size, and a chip
cut from full resolution recognises better at no extra cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from services.infer import facelib
from services.infer.matcher import Gallery
from shared import schema
from shared.config import Settings


class CorruptFrame(ValueError):
    """The JPEG could not be decoded."""


def detection_scale(width: int, scale: float, min_detect_width: int) -> float:
    """The factor to shrink a frame by before detection: ``scale``, but never below the minimum width."""
    if width <= 0:
        raise ValueError("width must be positive")
    return min(1.0, max(scale, min_detect_width / width))


@dataclass
class Analysis:
    """What the analyzer found in a frame, and how long each step took."""

    faces: list[schema.Face]
    timings: schema.Timings
    width: int
    height: int


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000.0, 2)


def analyze(jpeg: bytes | memoryview, gallery: Gallery, settings: Settings) -> Analysis:
    """Find and name every face in one JPEG frame."""
    started = time.perf_counter()
    frame = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise CorruptFrame("the JPEG could not be decoded")
    height, width = frame.shape[:2]
    factor = detection_scale(width, settings.scale, settings.min_detect_width)
    small = frame if factor >= 1.0 else cv2.resize(
        frame, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA
    )
    decoded = time.perf_counter()
    small_boxes = facelib.detect(np.ascontiguousarray(small[:, :, ::-1]), settings.upsample, settings.detector)
    detected = time.perf_counter()
    boxes = [
        (
            max(0, int(top / factor)), min(width, int(right / factor)),
            min(height, int(bottom / factor)), max(0, int(left / factor)),
        )
        for top, right, bottom, left in small_boxes
    ]
    encodings = facelib.encode(np.ascontiguousarray(frame[:, :, ::-1]), boxes) if boxes else np.zeros((0, 128))
    encoded = time.perf_counter()
    matches = gallery.match(encodings, settings.tolerance)
    matched = time.perf_counter()
    faces = [
        schema.Face(
            box=(left / width, top / height, (right - left) / width, (bottom - top) / height),
            name=match.name,
            distance=None if match.distance is None else round(match.distance, 4),
            confidence=match.confidence,
        )
        for (top, right, bottom, left), match in zip(boxes, matches)
    ]
    timings = schema.Timings(
        decode_ms=_ms(started, decoded),
        detect_ms=_ms(decoded, detected),
        encode_ms=_ms(detected, encoded),
        match_ms=_ms(encoded, matched),
        total_ms=_ms(started, matched),
    )
    return Analysis(faces, timings, width, height)
