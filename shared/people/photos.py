"""What makes an uploaded file a usable photo of a person, shared by the API, the page and the CLI.

The stored photo must enrol the same way whenever it is read again (after a
cache loss, with other settings), and the faces folder's rule is "exactly one
face per photo". So a photo showing several people is not stored as is: the
largest face is cut out, with a margin, and the cut-out is what is kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from shared.boxes import PixelBox, pixel_area
from shared.faces import facelib
from shared.faces.photo import (
    DEFAULT_MAX_MEGAPIXELS,
    PhotoOutcome,
    PhotoTooLarge,
    TruncatedPhoto,
    check_dimensions,
    encode_photo,
    photo_faces,
    read_rgb,
)

IMAGE_TYPES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp"}
MIN_PHOTO_SIDE = 48
"""Smaller images hold no face dlib can encode reliably."""
CROP_MARGIN = 0.5
"""Around a face cut out of a group photo, this much of the face's size on each side: hair, chin and context."""


class BadPhoto(ValueError):
    """A file that cannot be enrolled; the message says why, in words for the person who sent it."""


class TooLargePhoto(BadPhoto):
    """An image with more pixels than MAX_PHOTO_MEGAPIXELS (refused from its header, before decoding)."""


@dataclass(frozen=True)
class Enrolment:
    """A photo ready to store: its bytes (maybe a cut-out), file suffix, encoding outcome and any warning."""

    data: bytes
    suffix: str
    outcome: PhotoOutcome
    warning: str | None = None
    faces_found: int = 1
    """Faces in the file as sent (more than one: ``data`` is the cut-out of the largest)."""


def read_image(data: bytes, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> tuple[np.ndarray, str]:
    """An upload's pixels (upright RGB) and the suffix of its real type, judged by content, not by name.

    Its size is checked from the header before it is decoded (TooLargePhoto); a truncated file is refused.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            check_size = probe.size
    except Image.DecompressionBombError:
        raise TooLargePhoto(f"the image has far more than {max_megapixels:g} megapixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise BadPhoto("not an image (JPEG, PNG, WebP or BMP expected)") from None
    if kind not in IMAGE_TYPES:
        raise BadPhoto(f"{kind} images are not accepted; use JPEG, PNG, WebP or BMP")
    try:
        check_dimensions(*check_size, max_megapixels)
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
    except PhotoTooLarge as error:
        raise TooLargePhoto(str(error)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        if "truncated" in str(error):
            raise BadPhoto("the image is truncated (its data ends early)") from None
        raise BadPhoto("not an image (JPEG, PNG, WebP or BMP expected)") from None
    try:
        rgb = read_rgb(data, max_megapixels)
    except PhotoTooLarge as error:
        raise TooLargePhoto(str(error)) from None
    except TruncatedPhoto as error:
        raise BadPhoto(str(error)) from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise BadPhoto(f"the image cannot be decoded ({error})") from None
    if min(rgb.shape[:2]) < MIN_PHOTO_SIDE:
        raise BadPhoto(f"the image is smaller than {MIN_PHOTO_SIDE} px")
    return rgb, IMAGE_TYPES[kind]


def _cut_out(rgb: np.ndarray, box: PixelBox) -> np.ndarray:
    top, right, bottom, left = box
    height, width = rgb.shape[:2]
    margin_y, margin_x = int((bottom - top) * CROP_MARGIN), int((right - left) * CROP_MARGIN)
    return np.ascontiguousarray(
        rgb[
            max(0, top - margin_y) : min(height, bottom + margin_y),
            max(0, left - margin_x) : min(width, right + margin_x),
        ]
    )


def prepare_enrolment(data: bytes, upsample: int, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> Enrolment:
    """Check a file and encode its face; a group photo becomes a cut-out of its largest face."""
    rgb, suffix = read_image(data, max_megapixels)
    boxes = photo_faces(rgb, upsample)
    if not boxes:
        raise BadPhoto("no face found in this photo")
    if len(boxes) == 1:
        return Enrolment(data, suffix, PhotoOutcome("ok", facelib.encode(rgb, boxes)[0], faces=1))
    largest = max(boxes, key=pixel_area)
    crop = _cut_out(rgb, largest)
    outcome = encode_photo(crop, upsample)
    if outcome.status != "ok":
        raise BadPhoto(f"{len(boxes)} faces found and the largest cannot be cut out alone; send a photo of one face")
    ok, jpeg = cv2.imencode(".jpg", crop[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise BadPhoto("the cut-out of the largest face could not be saved")
    warning = f"{len(boxes)} faces found; the largest was cut out and enrolled"
    return Enrolment(jpeg.tobytes(), ".jpg", outcome, warning, faces_found=len(boxes))
