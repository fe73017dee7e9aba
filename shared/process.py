"""How every facestream service starts and stops: one :func:`run_service` that each ``__main__`` calls.

Read the settings (a bad one ends the process with exit code 2 and the key
named), set up logging, turn SIGTERM and SIGINT into a stop event the
service's loop watches, run the service, and turn a known start-up failure
into a one-line message and an exit code instead of a traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable

from shared.config import ConfigError, Settings, load_config
from shared.log import setup_logging

BAD_SETTING = 2
"""Exit code of a service refused by its settings: supervisord's restarts cannot fix it."""


class StartupError(RuntimeError):
    """The service cannot start (no camera named so, the face library missing...); the message says why."""

    def __init__(self, message: str, exit_code: int = BAD_SETTING) -> None:
        super().__init__(message)
        self.exit_code = exit_code


ServiceBody = Callable[[Settings, threading.Event], "int | None"]
"""A service's work: runs until the stop event is set; returns an exit code (None for 0)."""


def run_service(name: str, body: ServiceBody, *, handle_signals: bool = True) -> int:
    """Run one service as a process: settings, logging, signals, then ``body``; its exit code.

    ``handle_signals=False`` leaves SIGTERM and SIGINT to a server that
    installs its own handlers (gunicorn).
    """
    try:
        settings = load_config()
    except ConfigError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return BAD_SETTING
    setup_logging(name, settings.log_level)
    stop = threading.Event()
    if handle_signals:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        return body(settings, stop) or 0
    except StartupError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return error.exit_code
