"""Logging set-up shared by every service, and a rate-limited logger for bad input.

Bad input (a corrupt frame, a garbage message) must be logged, counted and
skipped; at 30 frames a second an unlimited log would drown everything else.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import unicodedata

UNTRUSTED_LOG_CHARS = 200
"""How much of a text from the bus (or any other sender) goes into one log line."""
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format (bidi overrides), surrogate, private, unassigned and line/paragraph separators."""


def untrusted(text: object, limit: int = UNTRUSTED_LOG_CHARS) -> str:
    """A text someone else wrote, safe to log: control and invisible characters escaped (a newline becomes
    ``\\n``, so no one can forge a log line or hide text), and cut to ``limit`` characters."""
    text = str(text)
    cut = len(text) > limit
    text = text[:limit]
    if any(unicodedata.category(char) in _INVISIBLE for char in text):
        text = "".join(
            char.encode("unicode_escape").decode("ascii")
            if unicodedata.category(char) in _INVISIBLE and char != " "
            else char
            for char in text
        )
    return text + ("..." if cut else "")


def log_format(service: str) -> str:
    """The one line format of every service's log (the web's server lines too: services/web/server.py)."""
    return f"%(asctime)s {service} %(levelname)s %(message)s"


def setup_logging(service: str, level: str = "INFO") -> logging.Logger:
    """Log one line per event to stderr, prefixed with the service's name."""
    logging.basicConfig(level=level, stream=sys.stderr, format=log_format(service), force=True)
    return logging.getLogger(service)


class RateLimitedLog:
    """Log a recurring problem at most once per interval, with how many were suppressed.

    The message usually quotes the bad input, so it is logged through :func:`untrusted`.
    """

    def __init__(self, logger: logging.Logger, interval_s: float = 5.0) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def warning(self, kind: str, message: str) -> None:
        """Count one occurrence of ``kind``; log it if the last log of that kind is old enough."""
        now = time.monotonic()
        with self._lock:
            self.total[kind] = self.total.get(kind, 0) + 1
            if now - self._last.get(kind, -1e9) < self._interval_s:
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return
            suppressed = self._suppressed.pop(kind, 0)
            self._last[kind] = now
            total = self.total[kind]
        extra = f" ({suppressed} more since last report, {total} in all)" if suppressed else f" ({total} in all)"
        self._logger.warning("%s: %s%s", kind, untrusted(message), extra)
