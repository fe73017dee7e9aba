"""face_recognition, imported safely, behind flat numpy-in numpy-out functions.

``import face_recognition`` calls ``quit()`` when its models package fails to
import (as it does under setuptools 81+, which dropped ``pkg_resources``):
the process would exit 0 having done nothing. :func:`load` turns that into a
clear error. The import is deferred to the first call so importing this
module has no side effects.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import io
import sys
import threading
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np

from shared.boxes import PixelBox

_MODEL_LOCK = threading.Lock()
"""dlib's models keep working state: one call at a time per process (a worker's reload thread may encode too)."""


class FaceLibraryError(RuntimeError):
    """face_recognition or its models cannot be loaded."""


@lru_cache(maxsize=1)
def load() -> ModuleType:
    """Import face_recognition once, raising FaceLibraryError instead of quitting."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            library = importlib.import_module("face_recognition")
        _drop_unused_landmark_model()
        return library
    except SystemExit:
        raise FaceLibraryError(
            "face_recognition quit while importing its models: "
            + (printed.getvalue().strip() or "no message")
            + " (is setuptools < 81 installed? face_recognition_models needs pkg_resources)"
        ) from None
    except ImportError as error:
        raise FaceLibraryError(f"face_recognition cannot be imported: {error}") from None


def _drop_unused_landmark_model() -> None:
    """Free the 68-point landmark model face_recognition loads at import.

    It serves only ``face_landmarks(model="large")``, which facestream never
    calls (encodings use the 5-point model), and holds 73 MB in every process
    that finds or encodes faces (measured: each worker and the web). glibc keeps
    freed heap unless asked, hence ``malloc_trim``; elsewhere the memory is
    only reused, not returned.
    """
    api: Any = sys.modules.get("face_recognition.api")  # untyped: its attributes are set at import
    if api is None or getattr(api, "pose_predictor_68_point", None) is None:
        return
    api.pose_predictor_68_point = None
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def detect(rgb: np.ndarray, upsample: int = 1, model: str = "hog") -> list[PixelBox]:
    """Find face boxes in an RGB image."""
    library = load()
    with _MODEL_LOCK:
        return [tuple(box) for box in library.face_locations(rgb, number_of_times_to_upsample=upsample, model=model)]


def encode(rgb: np.ndarray, boxes: list[PixelBox]) -> np.ndarray:
    """The 128-number encoding of each given face box, as an (n, 128) array."""
    if not boxes:
        return np.zeros((0, 128))
    library = load()
    with _MODEL_LOCK:
        return np.asarray(library.face_encodings(rgb, known_face_locations=boxes), dtype=np.float64)
