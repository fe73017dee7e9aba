"""Saying ``people.changed`` on the bus, so every worker reloads its known faces at once; and hearing it.

Best effort: workers also notice a change of the faces folder within a
second, so a lost announcement costs a second, never a wrong gallery.
A burst of announcements (an import, or a peer flooding the bus) is acted on
at most once a second (:class:`ChangeCoalescer`): each one makes the tracker
name every face afresh, and five a second left most faces unnamed.
"""

from __future__ import annotations

import logging
import threading
import time

import zmq

from shared.bus import schema
from shared.bus.sockets import Publisher
from shared.config import Settings

log = logging.getLogger(__name__)

COALESCE_S = 1.0
"""Act on the known people changing at most this often; no change waits longer than this to be acted on."""
MAX_REASONS = 5
"""How many of a burst's change texts are kept for the log (the newest), the rest counted."""

SUBSCRIPTION_GRACE_S = 0.3
"""A new PUB socket drops what it sends until the broker's subscriptions reach it; wait at most this long for them."""


class PeopleAnnouncer:
    """Publishes PeopleChanged messages; one socket, shared by request threads, so behind a lock.

    ZeroMQ gives no signal that subscriptions arrived: a short-lived process
    (the CLI) waits out the rest of :data:`SUBSCRIPTION_GRACE_S` after
    connecting before its first message; a long-lived one (the web) has long
    passed it.
    """

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._connected_at = time.monotonic()
        try:
            self._publisher: Publisher | None = Publisher(settings)
        except zmq.ZMQError as error:
            log.warning("cannot reach the bus (%s): running workers will see changes in the folder instead", error)
            self._publisher = None

    def changed(self, what: str) -> None:
        """Announce one change; never fails the caller."""
        with self._lock:
            if self._publisher is None:
                return
            rest = SUBSCRIPTION_GRACE_S - (time.monotonic() - self._connected_at)
            if rest > 0:
                time.sleep(rest)  # the slow-joiner pause: nothing to wait on instead
            try:
                self._publisher.send(schema.PEOPLE, "changed", schema.PeopleChanged(change=what, ts=time.time()))
            except zmq.ZMQError as error:
                log.warning("could not announce %r (%s)", what, error)
                return
        log.info("people changed: %s", what)

    def close(self) -> None:
        """Flush (up to the socket's linger time) and close."""
        with self._lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None


class ChangeCoalescer:
    """Turns a burst of changes into at most one action per :data:`COALESCE_S`, the last change included.

    The first change after a quiet second is due at once; those that follow within the second wait until it
    has passed, then are due together. Not thread-safe: one loop notes and asks.
    """

    def __init__(self, interval_s: float = COALESCE_S) -> None:
        self.interval_s = interval_s
        self._acted_at = float("-inf")
        self._reasons: list[str] = []
        self._more = 0
        self._pending = False

    def note(self, reason: str, now: float) -> None:
        """A change was announced."""
        self._pending = True
        self._reasons.append(reason)
        if len(self._reasons) > MAX_REASONS:
            self._reasons.pop(0)
            self._more += 1

    def due(self, now: float) -> list[str] | None:
        """The changes to act on now (their texts, newest last), or None if nothing is due yet."""
        if not self._pending or now - self._acted_at < self.interval_s:
            return None
        reasons = self._reasons + ([f"and {self._more} more"] if self._more else [])
        self._acted_at, self._reasons, self._more, self._pending = now, [], 0, False
        return reasons

    def wait_s(self, now: float) -> float:
        """How long until a noted change is due (0 if it is; the interval if nothing is noted)."""
        if not self._pending:
            return self.interval_s
        return max(0.0, self._acted_at + self.interval_s - now)
