"""Naming the faces of one still image (the API's and the CLI's ``recognize``), as the workers would.

dlib and the gallery are loaded on first use, not at start, so a web service
whose API is never used stays small. The gallery is rebuilt when the faces
folder changes (from the encoding cache: new photos were encoded on upload).
One lock: dlib's objects are not meant for several threads at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from shared.boxes import to_normalised
from shared.bus import schema
from shared.config import Settings
from shared.faces import facelib
from shared.faces.gallery import gallery_for
from shared.faces.matcher import Gallery
from shared.faces.photo import photo_faces
from shared.people.layout import folder_signature


@dataclass(frozen=True)
class RecognizedImage:
    """Every face of an image, named, with the image's size."""

    faces: list[schema.Face]
    width: int
    height: int


class Recognizer:
    """The same detector, encoder and matcher as the workers, for single images."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._gallery: Gallery | None = None
        self._signature: tuple[int, ...] = ()

    def _current_gallery(self) -> Gallery:
        signature = folder_signature(self.settings.faces_dir)
        if self._gallery is None or signature != self._signature:
            self._gallery = gallery_for(self.settings)
            self._signature = signature
        return self._gallery

    def recognize(self, rgb: np.ndarray) -> RecognizedImage:
        """Find and name every face of an image."""
        height, width = rgb.shape[:2]
        with self._lock:
            facelib.load()
            gallery = self._current_gallery()
            boxes = photo_faces(rgb, self.settings.upsample)
            encodings = facelib.encode(rgb, boxes)
            matches = gallery.match(encodings, self.settings.tolerance)
        faces = [
            schema.Face(
                box=to_normalised(box, width, height),
                name=match.name,
                distance=None if match.distance is None else round(match.distance, 4),
                confidence=match.confidence,
            )
            for box, match in zip(boxes, matches)
        ]
        return RecognizedImage(faces, width, height)
