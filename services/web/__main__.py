"""The web service: the live pages, the MJPEG streams and the HTTP API, under gunicorn."""

from __future__ import annotations

import sys
import threading

from services.web.server import WebServer
from shared.config import Settings
from shared.process import run_service


def serve(settings: Settings, _: threading.Event) -> None:
    """Serve until gunicorn is stopped (it handles SIGTERM and SIGINT itself)."""
    WebServer(settings).run()


if __name__ == "__main__":
    sys.exit(run_service("web", serve, handle_signals=False))
