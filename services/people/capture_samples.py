"""Picking enrolment photos of one person out of a camera, a video file or a stream.

A good gallery has several sharp photos of the face in different poses and
light, not twenty copies of one frame. So a frame is kept only when:

- it shows exactly one face (with two, which one is meant is a guess);
- the face is sharp: the variance of its Laplacian, measured on the face
  scaled to a fixed size so near and far faces compare, is above a threshold
  (motion blur and defocus flatten edges, and blurred photos enrol badly);
- it adds something: it comes at least ``min_interval_s`` after the last
  sample (consecutive frames differ by encoder noise alone, ~0.1-0.3), and its
  encoding is farther than ``min_distance`` from every sample kept so far, or
  ``min_gap_s`` have passed since the last one (so a person holding still
  still gets sampled, slowly);
- it is the same person: within ``same_person`` of some kept sample. A clip
  or a room shows other people too (the hamilton clip cuts to the audience);
  enrolling them under this name would poison the gallery. The first sample
  decides who is meant.

Screening detects on a copy at most ``SCREEN_WIDTH`` wide without upsampling
(about 4x cheaper than the workers' setting): a face too small to be found
there is too small to be a good enrolment photo anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from shared.boxes import PixelBox
from shared.faces import facelib
from shared.faces.detect import find_faces
from shared.redact import mask_uri
from shared.sources import classify

SCREEN_WIDTH = 640
SHARPNESS_SIZE = 100
"""Faces are measured for sharpness at this size (px square), so the threshold does not depend on distance."""
JPEG_QUALITY = 95
MAX_FAILED_READS = 50
"""A camera or stream that gives no frame this many times in a row has stopped."""


@dataclass(frozen=True)
class CaptureRules:
    """When a frame is worth keeping, and when to give up."""

    count: int = 20
    min_sharpness: float = 30.0
    min_distance: float = 0.1
    min_interval_s: float = 0.3
    min_gap_s: float = 2.0
    same_person: float = 0.6
    timeout_s: float = 120.0


@dataclass
class CaptureTally:
    """How the frames went so far: what the progress line shows and the summary explains."""

    frames: int = 0
    no_face: int = 0
    several_faces: int = 0
    blurry: int = 0
    too_similar: int = 0
    someone_else: int = 0
    kept: int = 0

    def line(self, wanted: int) -> str:
        """One progress line."""
        return (
            f"kept {self.kept}/{wanted} from {self.frames} frames "
            f"(skipped: {self.no_face} no face, {self.several_faces} several faces, "
            f"{self.blurry} blurry, {self.too_similar} too similar or too soon, "
            f"{self.someone_else} someone else)"
        )


@dataclass
class Sample:
    """A kept frame: the JPEG to enrol, when it was taken (source time, s) and its face encoding."""

    jpeg: bytes
    at_s: float
    encoding: np.ndarray
    label: str


@dataclass
class CaptureResult:
    """The kept samples, the tally, and why capture stopped."""

    samples: list[Sample] = field(default_factory=list)
    tally: CaptureTally = field(default_factory=CaptureTally)
    stopped: str = ""


class CaptureFailed(RuntimeError):
    """The source cannot be opened at all."""


def sharpness(bgr: np.ndarray, box: PixelBox) -> float:
    """Variance of the Laplacian of the face, in grey, scaled to SHARPNESS_SIZE square."""
    top, right, bottom, left = box
    face = bgr[max(0, top) : bottom, max(0, left) : right]
    if face.size == 0:
        return 0.0
    grey = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    grey = cv2.resize(grey, (SHARPNESS_SIZE, SHARPNESS_SIZE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def screen_faces(rgb: np.ndarray) -> list[PixelBox]:
    """Face boxes in full-resolution pixels, found on a copy at most SCREEN_WIDTH wide."""
    return find_faces(rgb, min(1.0, SCREEN_WIDTH / rgb.shape[1]), upsample=0)


def too_soon(at_s: float, kept: list[Sample], rules: CaptureRules) -> bool:
    """Whether a frame comes too soon after the last sample to be worth even looking at."""
    return bool(kept) and at_s - kept[-1].at_s < rules.min_interval_s


def novelty(encoding: np.ndarray, at_s: float, kept: list[Sample], rules: CaptureRules) -> str | None:
    """None if the face makes a new sample; otherwise why not: "too_similar" or "someone_else"."""
    if not kept:
        return None
    nearest = float(np.linalg.norm(np.stack([sample.encoding for sample in kept]) - encoding, axis=1).min())
    if nearest > rules.same_person:
        return "someone_else"
    if nearest > rules.min_distance or at_s - kept[-1].at_s >= rules.min_gap_s:
        return None
    return "too_similar"


def open_source(uri: str) -> tuple[cv2.VideoCapture, bool]:
    """The opened source and whether it is a file (which ends, and whose time is its position)."""
    kind = classify(uri)
    if kind.is_file and not Path(str(kind.target)).is_file():
        raise CaptureFailed(f"no such video file: {kind.target}")
    capture = cv2.VideoCapture(kind.target)
    if not capture.isOpened():
        capture.release()
        raise CaptureFailed(f"cannot open {mask_uri(uri)!r} (a camera index, a video file or an rtsp/http URL)")
    return capture, kind.is_file


def judge(bgr: np.ndarray, at_s: float, kept: list[Sample], rules: CaptureRules, tally: CaptureTally) -> Sample | None:
    """The frame as a new sample, or None (counted in the tally under the reason)."""
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    boxes = screen_faces(rgb)
    if not boxes:
        tally.no_face += 1
        return None
    if len(boxes) > 1:
        tally.several_faces += 1
        return None
    if sharpness(bgr, boxes[0]) < rules.min_sharpness:
        tally.blurry += 1
        return None
    encoding = facelib.encode(rgb, boxes)[0]
    refusal = novelty(encoding, at_s, kept, rules)
    if refusal is not None:
        setattr(tally, refusal, getattr(tally, refusal) + 1)
        return None
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        return None
    return Sample(jpeg.tobytes(), at_s, encoding, label=f"capture-{len(kept) + 1:02d}.jpg")


def capture_samples(
    uri: str, rules: CaptureRules, on_progress: Callable[[CaptureTally], None] = lambda tally: None
) -> CaptureResult:
    """Read frames until ``rules.count`` good, distinct samples are kept, the source ends, or time runs out.

    Files are read as fast as they decode (not paced like the live capture):
    here the point is to pick frames, not to watch them.
    """
    facelib.load()
    capture, is_file = open_source(uri)
    result = CaptureResult()
    started = time.monotonic()
    failed_reads = 0
    try:
        while len(result.samples) < rules.count:
            if time.monotonic() - started > rules.timeout_s:
                result.stopped = f"gave up after {rules.timeout_s:.0f} s"
                break
            ok, frame = capture.read()
            if not ok or frame is None:
                failed_reads += 1
                if is_file or failed_reads >= MAX_FAILED_READS:
                    result.stopped = "the video ended" if is_file else "the source stopped giving frames"
                    break
                continue
            failed_reads = 0
            result.tally.frames += 1
            at_s = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if is_file else time.monotonic() - started
            if too_soon(at_s, result.samples, rules):
                result.tally.too_similar += 1
                continue
            sample = judge(frame, at_s, result.samples, rules, result.tally)
            if sample is not None:
                result.samples.append(sample)
                result.tally.kept += 1
            on_progress(result.tally)
    except KeyboardInterrupt:  # Ctrl-C on a webcam: keep what was picked so far
        result.stopped = "interrupted"
    finally:
        capture.release()
    return result
