"""Drawing names and boxes on a frame, and the "no signal" card.

Only this module knows how a label looks, so the stream and any snapshot
draw the same thing.
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from services.web.label_fonts import label_image
from shared.boxes import to_pixels
from shared.bus import schema
from shared.bus.schema import UNKNOWN
from shared.people.names import display_name

KNOWN_COLOUR = (80, 200, 60)  # BGR green
UNKNOWN_COLOUR = (40, 40, 230)  # BGR red
JPEG_QUALITY = 80
BLUR_BLOCKS = 8
"""A hidden face becomes this many flat blocks across (and down)."""
BLUR_MARGIN = 0.2
"""A hidden face's box is widened by this much of its size on each side: the detector's box is tight."""

Blur = Literal["none", "unknown", "all"]


def label_text(face: schema.Face) -> str:
    """The words drawn above a box: the name and how sure we are.

    Rounded down, so 99.6 % shows as 99 %: "100 %" would claim a certainty the matcher never has.
    """
    return f"{display_name(face.name)} {math.floor(face.confidence)}%"


def draw_faces(frame: np.ndarray, faces: list[schema.Face]) -> np.ndarray:
    """Draw each face's box and label onto the frame, in place; return it."""
    height, width = frame.shape[:2]
    thickness = max(1, round(height / 300))
    label_height = max(16, round(height / 24))
    for face in faces:
        top, right, bottom, left = to_pixels(face.box, width, height)
        colour = UNKNOWN_COLOUR if face.name == UNKNOWN else KNOWN_COLOUR
        cv2.rectangle(frame, (left, top), (right, bottom), colour, thickness)
        paste(frame, label_image(label_text(face), label_height, colour), left, top - label_height)
    return frame


def paste(frame: np.ndarray, patch: np.ndarray, left: int, top: int) -> None:
    """Copy ``patch`` onto the frame with its top-left corner at (left, top), moved and cut to stay inside."""
    height, width = frame.shape[:2]
    top = min(max(0, top), max(0, height - patch.shape[0]))
    left = min(max(0, left), max(0, width - patch.shape[1]))
    visible = patch[: height - top, : width - left]
    frame[top : top + visible.shape[0], left : left + visible.shape[1]] = visible


def blurred(face: schema.Face, blur: Blur) -> bool:
    """Whether this face is hidden from viewers under the BLUR setting."""
    return blur == "all" or (blur == "unknown" and face.name == UNKNOWN)


def pixelate_faces(frame: np.ndarray, faces: list[schema.Face]) -> np.ndarray:
    """Hide each face, in place: its box (widened: hair, ears) cut into about 8x8 flat blocks; return the frame.

    Blocks, not a Gaussian blur: a face blurred lightly can be sharpened back, one in 64 flat tiles cannot.
    """
    height, width = frame.shape[:2]
    for face in faces:
        top, right, bottom, left = to_pixels(face.box, width, height)
        margin_x, margin_y = (right - left) * BLUR_MARGIN, (bottom - top) * BLUR_MARGIN
        top, bottom = max(0, int(top - margin_y)), min(height, int(bottom + margin_y))
        left, right = max(0, int(left - margin_x)), min(width, int(right + margin_x))
        if bottom - top < 2 or right - left < 2:
            continue
        region = frame[top:bottom, left:right]
        tiny = cv2.resize(region, (BLUR_BLOCKS, BLUR_BLOCKS), interpolation=cv2.INTER_AREA)
        frame[top:bottom, left:right] = cv2.resize(tiny, (right - left, bottom - top), interpolation=cv2.INTER_NEAREST)
    return frame


def render(jpeg: bytes, faces: list[schema.Face], boxes: bool = True, blur: Blur = "none") -> bytes:
    """The frame as JPEG with the faces the BLUR setting hides pixelated and (``boxes``) every face drawn.

    The original bytes when there is nothing to change. Blurring hides the faces
    the workers found (moved to this frame by their motion); a face not found is not hidden.
    """
    hidden = [face for face in faces if blurred(face, blur)]
    if not hidden and not (boxes and faces):
        return jpeg
    frame = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        return jpeg
    pixelate_faces(frame, hidden)
    if boxes:
        draw_faces(frame, faces)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return encoded.tobytes() if ok else jpeg


def no_signal_card(message: str, width: int = 640, height: int = 360) -> bytes:
    """A grey JPEG saying there is no picture, and why."""
    card = np.full((height, width, 3), 48, dtype=np.uint8)
    for line_number, line in enumerate(["No signal", message[:60]]):
        scale = 1.2 if line_number == 0 else 0.5
        (text_w, _), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        cv2.putText(
            card,
            line,
            ((width - text_w) // 2, height // 2 + line_number * 40),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (220, 220, 220),
            2 if line_number == 0 else 1,
            cv2.LINE_AA,
        )
    ok, encoded = cv2.imencode(".jpg", card)
    return encoded.tobytes()
