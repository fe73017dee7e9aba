"""Encoding strangers' faces for visitor ids, on a thread of its own so the bus is read while dlib works.

An encoding is a JPEG decode and one dlib pass (~20-40 ms on a small CPU), made
a few times per Unknown sighting; done on the bus loop it would hold up the
results and frames queued behind it, and ZeroMQ drops what overflows. Jobs
wait in a bounded queue (a burst of strangers drops the newest jobs, never
blocks the loop: a sighting asks again on a later frame); every job taken
gives exactly one answer, an encoding or None, so the loop knows when a
sighting has nothing more to wait for.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from shared.boxes import NormBox, to_pixels
from shared.faces import facelib

log = logging.getLogger(__name__)

QUEUE_SIZE = 16
"""Jobs waiting at most: a few seconds of work for a crowd walking in at once; more would be stale by its turn."""
STOP = None


@dataclass(frozen=True)
class EncodeJob:
    """Encode the face at ``box`` in this JPEG, for sighting ``row_id``."""

    row_id: int
    jpeg: bytes
    box: NormBox


@dataclass(frozen=True)
class Encoded:
    """The answer to one job: the face's encoding, or None (the frame did not decode, dlib failed)."""

    row_id: int
    encoding: np.ndarray | None


def encode_face(jpeg: bytes, box: NormBox) -> np.ndarray | None:
    """The 128-number encoding of the face at ``box`` (normalised) in a JPEG frame; None when it cannot be made."""
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, width = image.shape[:2]
    top, right, bottom, left = to_pixels(box, width, height)
    top, left, bottom, right = max(0, top), max(0, left), min(height, bottom), min(width, right)
    if bottom - top < 2 or right - left < 2:
        return None
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    return np.asarray(facelib.encode(rgb, [(top, right, bottom, left)])[0], dtype=np.float64)


class FaceEncoder:
    """A thread that encodes faces from a bounded queue of jobs; answers are collected by the loop."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._jobs: queue.Queue[EncodeJob | None] = queue.Queue(maxsize=queue_size)
        self._done: queue.SimpleQueue[Encoded] = queue.SimpleQueue()
        """Unbounded, yet never more than the jobs queue plus the one at work: nothing answered is dropped."""
        self._thread = threading.Thread(target=self._run, name="face-encoder", daemon=True)
        self.unusable: str | None = None
        """Why faces cannot be encoded at all (face_recognition does not load): said once, then every job is None."""

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: EncodeJob) -> bool:
        """Queue a job; False (nothing queued) when the queue is full."""
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            return False
        return True

    def finished(self) -> list[Encoded]:
        """Every answer ready now."""
        answers = []
        while True:
            try:
                answers.append(self._done.get_nowait())
            except queue.Empty:
                return answers

    def stop(self, timeout_s: float = 5.0) -> None:
        """Let the job at work finish, drop the rest, and end the thread."""
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        try:
            self._jobs.put(STOP, timeout=timeout_s)
        except queue.Full:
            return
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            facelib.load()  # the models load here, not on the first stranger's face
        except facelib.FaceLibraryError as error:
            self.unusable = str(error)
            log.error("visitor ids are off: faces cannot be encoded (%s)", error)
        while True:
            job = self._jobs.get()
            if job is STOP:
                return
            encoding = None
            if self.unusable is None:
                try:
                    encoding = encode_face(job.jpeg, job.box)
                except Exception as error:  # dlib raises RuntimeError and others; one bad frame must not end the thread
                    log.warning("could not encode a face of sighting %d: %s", job.row_id, error)
            self._done.put(Encoded(job.row_id, encoding))
