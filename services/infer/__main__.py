"""An inference worker: asks the dispatcher for a frame when idle, answers with the faces in it.

Run as many as there are cores (or more, on other machines): each is a
separate process, so they share no GIL, and the dispatcher only ever hands a
worker the newest due frame, so adding workers adds throughput, never latency.
"""

from __future__ import annotations

import os
import sys
import threading

from services.infer.worker import Worker
from shared.config import Settings
from shared.faces.facelib import FaceLibraryError
from shared.process import StartupError, run_service

NO_FACE_LIBRARY = 3


def serve(settings: Settings, stop: threading.Event) -> None:
    """Run one worker at a lower CPU priority, so capture and web stay smooth."""
    os.nice(settings.infer_nice)
    try:
        Worker(settings, stop).run()
    except FaceLibraryError as error:
        raise StartupError(str(error), NO_FACE_LIBRARY) from None


if __name__ == "__main__":
    sys.exit(run_service("infer", serve))
