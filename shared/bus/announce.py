"""Saying ``people.changed`` on the bus, so every worker reloads its known faces at once.

Best effort: workers also notice a change of the faces folder within a
second, so a lost announcement costs a second, never a wrong gallery.
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
