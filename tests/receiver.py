"""A real HTTP receiver for webhook and notification tests: a ThreadingHTTPServer on a free loopback port.

It records every POST (path, headers, body, arrival time) and answers with the
statuses it is told, in turn (then 200), or hangs without a word until it is
closed, like a receiver that accepted the connection and froze.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Start with :meth:`start`; :attr:`url` to configure; :meth:`wait` for a request; :meth:`close`."""

    def __init__(self, statuses: list[int] | None = None, hang: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.hang = hang
        self.received: list[Received] = []
        self.attempts = 0
        """Every request that arrived, answered or not (a hanging receiver records none in ``received``)."""
        self._changed = threading.Condition()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    receiver.attempts += 1
                    receiver._changed.notify_all()
                if receiver.hang:
                    receiver._closing.wait(120)
                    return
                with receiver._changed:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        receiver.received.append(Received(self.path, dict(self.headers), body, time.time()))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def wait(self, match: Callable[[Received], bool], timeout_s: float, what: str) -> Received:
        """The first request ``match`` accepts; fail naming ``what`` after the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for request in self.received:
                    if match(request):
                        return request
                left = deadline - time.monotonic()
                if left <= 0:
                    bodies = [request.body[:120] for request in self.received[-10:]]
                    raise AssertionError(f"no request {what} within {timeout_s} s; last ones: {bodies}")
                self._changed.wait(left)

    def wait_attempts(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.attempts < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.attempts} requests arrived, not {count}, within {timeout_s} s")
                self._changed.wait(left)

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
