"""The web service: the live pages, the MJPEG streams and the HTTP API, under gunicorn."""

from __future__ import annotations

import logging
import sys
import threading

from services.web.server import WebServer
from shared.accounts import ensure_first_admin, first_admin_line
from shared.config import Settings
from shared.process import run_service


def serve(settings: Settings, _: threading.Event) -> None:
    """Serve until gunicorn is stopped (it handles SIGTERM and SIGINT itself)."""
    password = ensure_first_admin(settings) if settings.auth else None
    if password:  # started without the launcher (a container): the first admin is made and shown here, once
        logging.getLogger("web").warning(first_admin_line(password))
    WebServer(settings).run()


if __name__ == "__main__":
    sys.exit(run_service("web", serve, handle_signals=False))
