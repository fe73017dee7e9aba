"""Drawing names and boxes on a frame, and the "no signal" card.

Only this module knows how a label looks, so the stream and any snapshot
draw the same thing.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from shared.boxes import to_pixels
from shared.bus import schema
from shared.bus.schema import UNKNOWN

KNOWN_COLOUR = (80, 200, 60)  # BGR green
UNKNOWN_COLOUR = (40, 40, 230)  # BGR red
JPEG_QUALITY = 80


def label_text(face: schema.Face) -> str:
    """The words drawn above a box: the name and how sure we are.

    Rounded down, so 99.6 % shows as 99 %: "100 %" would claim a certainty the matcher never has.
    """
    return f"{face.name} {math.floor(face.confidence)}%"


def draw_faces(frame: np.ndarray, faces: list[schema.Face]) -> np.ndarray:
    """Draw each face's box and label onto the frame, in place; return it."""
    height, width = frame.shape[:2]
    thickness = max(1, round(height / 300))
    font_scale = max(0.4, height / 720)
    for face in faces:
        top, right, bottom, left = to_pixels(face.box, width, height)
        colour = UNKNOWN_COLOUR if face.name == UNKNOWN else KNOWN_COLOUR
        cv2.rectangle(frame, (left, top), (right, bottom), colour, thickness)
        text = label_text(face)
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        label_top = max(0, top - text_h - baseline - 4)
        cv2.rectangle(frame, (left, label_top), (left + text_w + 6, label_top + text_h + baseline + 4), colour, -1)
        cv2.putText(
            frame,
            text,
            (left + 3, label_top + text_h + 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
    return frame


def render(jpeg: bytes, faces: list[schema.Face]) -> bytes:
    """The frame with its faces drawn, as JPEG; the original bytes when there is nothing to draw."""
    if not faces:
        return jpeg
    frame = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        return jpeg
    ok, encoded = cv2.imencode(".jpg", draw_faces(frame, faces), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
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
