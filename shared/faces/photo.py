"""One photo of a person: decoded upright, exactly one face found, encoded at full resolution."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps

from shared.boxes import PixelBox
from shared.faces import facelib
from shared.faces.detect import ENROL_DETECT_MAX_SIDE, find_faces, fit_within

PHOTO_STATUSES = ("ok", "no_face", "many_faces", "unreadable")
DEFAULT_MAX_MEGAPIXELS = 40.0
"""Largest photo decoded (MAX_PHOTO_MEGAPIXELS): 40 MP is ~120 MB as RGB; a camera's photo is 12-50 MP."""

_DECODING = threading.Lock()
"""One decode at a time, with Pillow's truncated-file rule set as ours (see :func:`read_rgb`)."""


class PhotoTooLarge(ValueError):
    """An image whose header claims more pixels than the limit: refused before a pixel is decoded."""


class TruncatedPhoto(ValueError):
    """An image whose data ends before its last pixel."""


def check_dimensions(width: int, height: int, max_megapixels: float) -> None:
    """PhotoTooLarge if width x height is above the limit (the rule, on the header's numbers alone)."""
    if width * height > max_megapixels * 1_000_000:
        raise PhotoTooLarge(
            f"the image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"at most {max_megapixels:g} megapixels are accepted"
        )


@dataclass(frozen=True)
class PhotoOutcome:
    """What enrolling one photo gave: an encoding, or the reason it was skipped (see :data:`PHOTO_STATUSES`)."""

    status: str
    encoding: np.ndarray | None = None
    faces: int = 0


def read_rgb(data: bytes, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> np.ndarray:
    """Decode image bytes to an upright RGB array (EXIF rotation applied, alpha dropped).

    The size is read from the header and checked before anything is decoded
    (PhotoTooLarge), so a small file claiming a huge picture costs nothing.
    A truncated file is refused (TruncatedPhoto) whatever was imported before:
    face_recognition sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES`` at
    import, so the flag is set to ours around our own decode, under a lock that
    also keeps to one full-size decode at a time (bounded memory). Other
    errors are Pillow's (UnidentifiedImageError, OSError, ValueError).
    """
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # Pillow's own, far higher limit: also too large for us
        raise PhotoTooLarge(f"the image has far more than {max_megapixels:g} megapixels") from None
    with image:
        check_dimensions(*image.size, max_megapixels)
        with _DECODING:
            lenient = ImageFile.LOAD_TRUNCATED_IMAGES
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                image.load()
            except OSError as error:
                if "truncated" in str(error) or "broken data stream" in str(error):
                    raise TruncatedPhoto("the image is truncated (its data ends early)") from None
                raise
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = lenient
            ImageOps.exif_transpose(image, in_place=True)
            return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


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
