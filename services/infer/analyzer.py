"""One frame in, named face boxes out: decode, downscale, detect, encode, match.

Faces the dispatcher already tracks are encoded only when their track asks
for it (the tracker's rule); new faces always are. Detection runs on a
downscaled copy, encoding on the full-resolution frame (shared/faces/detect.py
says why).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from shared.boxes import NormBox, PixelBox, associate, to_normalised
from shared.bus import schema
from shared.bus.schema import Detection, TrackHint
from shared.config import Settings
from shared.faces import facelib
from shared.faces.detect import find_faces
from shared.faces.matcher import Gallery
from shared.faces.regions import (
    coarse_smallest_face,
    detection_scale,
    distinct_faces,
    fine_crops,
    fine_pass_needed,
    fine_scale,
    shifted,
    smallest_face_wanted,
)


class CorruptFrame(ValueError):
    """The JPEG could not be decoded."""


@dataclass
class Analysis:
    """What the analyzer found in a frame, and how long each step took."""

    detections: list[Detection]
    timings: schema.Timings
    width: int
    height: int


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000.0, 2)


def find_all_faces(
    frame: np.ndarray,
    settings: Settings,
    tracked: list[NormBox],
    motion: list[NormBox] | None,
    sweep: NormBox | None,
) -> list[PixelBox]:
    """Every face of a BGR frame: the whole-frame pass, and the fine pass for small faces where it pays.

    shared/faces/regions.py says where the fine pass looks and why; its boxes
    come first, being found at the higher resolution.
    """
    height, width = frame.shape[:2]
    factor = detection_scale(width, settings.scale, settings.min_detect_width)
    boxes = find_faces(frame, factor, settings.upsample, settings.detector, bgr=True)
    min_face = smallest_face_wanted(settings.min_face_px, height)
    if not fine_pass_needed(min_face, factor, settings.upsample):
        return boxes
    scale = fine_scale(min_face)
    fine: list[PixelBox] = []
    coarse_face = coarse_smallest_face(factor, settings.upsample)
    for crop in fine_crops(width, height, min_face, tracked, sweep, motion or [], coarse_face):
        top, right, bottom, left = crop
        found = find_faces(frame[top:bottom, left:right], scale.factor, scale.upsample, "hog", bgr=True)
        fine.extend(shifted(box, crop) for box in found)
    return distinct_faces(fine + boxes)


def analyze(
    jpeg: bytes | memoryview,
    gallery: Gallery,
    settings: Settings,
    tracks: list[TrackHint] | None = None,
    motion: list[NormBox] | None = None,
    sweep: NormBox | None = None,
) -> Analysis:
    """Find every face in one JPEG frame; name the new ones and those whose track asks for it.

    ``motion``: where capture saw the picture change (the frame header's); ``sweep``: this frame's tile of the
    camera's slow sweep (the dispatcher's). Both only steer the search for faces smaller than the whole-frame
    pass finds.
    """
    started = time.perf_counter()
    frame = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise CorruptFrame("the JPEG could not be decoded")
    height, width = frame.shape[:2]
    known = tracks or []
    decoded = time.perf_counter()
    pixel_boxes = find_all_faces(frame, settings, [track.box for track in known], motion, sweep)
    detected = time.perf_counter()
    boxes = [to_normalised(box, width, height) for box in pixel_boxes]
    track_of = {i: known[j] for i, j in associate(boxes, [track.box for track in known], settings.track_iou)}
    to_encode = [i for i in range(len(boxes)) if i not in track_of or track_of[i].encode]
    encodings = (
        facelib.encode(np.ascontiguousarray(frame[:, :, ::-1]), [pixel_boxes[i] for i in to_encode])
        if to_encode
        else np.zeros((0, 128))
    )
    encoded = time.perf_counter()
    matches = dict(zip(to_encode, gallery.match(encodings, settings.tolerance)))
    matched = time.perf_counter()
    detections = []
    for index, box in enumerate(boxes):
        match = matches.get(index)
        detections.append(
            Detection(
                box=box,
                track_id=track_of[index].track_id if index in track_of else None,
                name=match.name if match else None,
                distance=None if match is None or match.distance is None else round(match.distance, 4),
                confidence=match.confidence if match else 0.0,
                leaning=match.leaning if match else None,
            )
        )
    timings = schema.Timings(
        decode_ms=_ms(started, decoded),
        detect_ms=_ms(decoded, detected),
        encode_ms=_ms(detected, encoded),
        match_ms=_ms(encoded, matched),
        total_ms=_ms(started, matched),
    )
    return Analysis(detections, timings, width, height)
