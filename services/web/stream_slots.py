"""How many live streams each client address holds, so one client cannot take every thread of the web.

A stream holds a server thread for as long as it is watched; without a cap,
one address opening a hundred streams that it never reads leaves nothing for
the pages, the API and everyone else. Behind a reverse proxy every client has
the proxy's address: raise MAX_STREAMS_PER_CLIENT there.
"""

from __future__ import annotations

import threading


class StreamSlots:
    """Streams open per client address, under a lock (request threads take and give back)."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def take(self, client: str) -> bool:
        """Count one more stream for this client; False (and nothing counted) when it holds its share already."""
        with self._lock:
            held = self._open.get(client, 0)
            if held >= self.per_client:
                return False
            self._open[client] = held + 1
            return True

    def give_back(self, client: str) -> None:
        """The client's stream ended."""
        with self._lock:
            held = self._open.get(client, 0) - 1
            if held > 0:
                self._open[client] = held
            else:
                self._open.pop(client, None)
