"""The capture service: one process per camera (``--camera NAME`` from SOURCE), publishing JPEG frames on the bus."""

from __future__ import annotations

import argparse
import sys
import threading

from services.capture.service import CaptureService
from shared.config import Camera, Settings
from shared.process import StartupError, run_service


def chosen_camera(settings: Settings, name: str | None) -> Camera:
    """The camera of that name in SOURCE (the first if no name is given)."""
    cameras = {camera.name: camera for camera in settings.cameras}
    if not cameras:
        raise StartupError("no camera configured (set SOURCE)")
    chosen = name or next(iter(cameras))
    if chosen not in cameras:
        raise StartupError(f"SOURCE names no camera {chosen!r} (it has {sorted(cameras)})")
    return cameras[chosen]


def main(argv: list[str] | None = None) -> int:
    """Capture the camera named on the command line until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--camera", help="camera name from SOURCE (default: the first)")
    args = parser.parse_args(argv)

    def serve(settings: Settings, stop: threading.Event) -> None:
        CaptureService(settings, chosen_camera(settings, args.camera), stop).run()

    return run_service("capture", serve)


if __name__ == "__main__":
    sys.exit(main())
