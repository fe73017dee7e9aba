"""One photo of a person: decoded upright, exactly one face found, encoded at full resolution."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from shared.boxes import PixelBox
from shared.faces import facelib
from shared.faces.detect import ENROL_DETECT_MAX_SIDE, find_faces, fit_within

PHOTO_STATUSES = ("ok", "no_face", "many_faces", "unreadable")


@dataclass(frozen=True)
class PhotoOutcome:
    """What enrolling one photo gave: an encoding, or the reason it was skipped (see :data:`PHOTO_STATUSES`)."""

    status: str
    encoding: np.ndarray | None = None
    faces: int = 0


def read_rgb(data: bytes) -> np.ndarray:
    """Decode image bytes to an upright RGB array (EXIF rotation applied, alpha dropped)."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"))


def photo_faces(rgb: np.ndarray, upsample: int = 1) -> list[PixelBox]:
    """Face boxes of a photo in its own pixels, searched on a copy at most ENROL_DETECT_MAX_SIDE large."""
    height, width = rgb.shape[:2]
    return find_faces(rgb, fit_within(width, height, ENROL_DETECT_MAX_SIDE), upsample)


def encode_photo(rgb: np.ndarray, upsample: int = 1) -> PhotoOutcome:
    """Find exactly one face in a photo and encode it at full resolution.

    A photo with several faces is refused, because which face is meant would
    be a guess (an upload of a group photo is cut to its largest face first:
    shared/people/photos.py).
    """
    boxes = photo_faces(rgb, upsample)
    if len(boxes) != 1:
        return PhotoOutcome("no_face" if not boxes else "many_faces", faces=len(boxes))
    return PhotoOutcome("ok", facelib.encode(rgb, boxes)[0], faces=1)
