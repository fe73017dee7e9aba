"""Finding faces on a shrunk copy of an image, with the boxes given back in the original's pixels.

Detection is the expensive, resolution-bound step (HOG's cost grows with the
area searched); encoding cuts a 150x150 chip whatever the input size, and a
chip cut from the full-resolution image recognises better at no extra cost.
So every caller detects on a smaller copy and encodes on the original: the
workers (``SCALE``, never below ``MIN_DETECT_WIDTH``), enrolment (photos
searched at most :data:`ENROL_DETECT_MAX_SIDE` large), capture of samples and
the benches. This module is the one place that shrinks and scales back.
"""

from __future__ import annotations

import cv2
import numpy as np

from shared.boxes import PixelBox, scale_up
from shared.faces import facelib

ENROL_DETECT_MAX_SIDE = 1024
"""Photos are searched for a face at most this large (px); the encoding uses the full photo."""


def fit_within(width: int, height: int, max_side: int) -> float:
    """The factor that makes an image's longer side at most ``max_side`` (1.0 if it already is)."""
    return min(1.0, max_side / max(width, height))


def shrink(image: np.ndarray, factor: float) -> np.ndarray:
    """A copy of the image ``factor`` times as large (area-averaged: no aliasing); the image itself at 1.0."""
    if factor >= 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def find_faces(
    image: np.ndarray, factor: float = 1.0, upsample: int = 1, model: str = "hog", *, bgr: bool = False
) -> list[PixelBox]:
    """Face boxes of an image, searched on a copy shrunk by ``factor``, in the full image's pixels.

    ``bgr``: the image is OpenCV's BGR (a decoded frame); only the small copy
    is turned to RGB, so a caller that never encodes pays for no full-size copy.
    """
    height, width = image.shape[:2]
    small = shrink(image, factor)
    rgb = np.ascontiguousarray(small[:, :, ::-1] if bgr else small)
    return [scale_up(box, min(1.0, factor), width, height) for box in facelib.detect(rgb, upsample, model)]
