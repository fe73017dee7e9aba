"""One receiver's outbox: a bounded queue and a thread of its own that POSTs, with a timeout and retries.

Each receiver (a webhook, the push service) gets its own, so a receiver that
hangs or is down only ever holds up its own requests: the loop hands a request
over with :meth:`Outbox.offer`, which never waits, and when a receiver falls
:data:`QUEUE_SIZE` requests behind, the newest are dropped, counted and logged
at most once per :data:`LOG_INTERVAL_S`.

The retries are a loop here rather than urllib3's ``Retry``: its backoff sleep
cannot be interrupted at a stop, and its warnings name the request's path and
query, where a Gotify token or an ntfy topic (a password in all but name) sit.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import urllib3

from shared.bus import schema
from shared.log import RateLimitedLog
from shared.redact import mask_endpoint

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
"""Requests a receiver may be behind before new ones are dropped: minutes of arrivals at a busy door, and a bound
on what a dead receiver costs (a few hundred kB)."""
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
"""The wait before a retry doubles from the first to the most: a receiver restarting is caught within seconds, one
that stays down is not hammered."""
LOG_INTERVAL_S = 30.0
"""Failures and drops of one receiver are logged at most this often: a receiver away for a night must not fill the
log."""
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Answers worth trying again: the receiver is busy or restarting. Any other 4xx refuses the request for good."""


@dataclass(frozen=True)
class Request:
    """One POST to make: its body and headers, and what it is for the log."""

    body: bytes
    headers: dict[str, str]
    what: str


class Outbox:
    """A receiver's queue and worker thread; :meth:`start`, :meth:`offer` from any thread, :meth:`close`."""

    def __init__(
        self,
        label: str,
        url: str,
        timeout_s: float,
        retries: int,
        queue_size: int = QUEUE_SIZE,
        backoff_first_s: float = BACKOFF_FIRST_S,
    ) -> None:
        self.label = label
        self.url = url
        self.shown_url = mask_endpoint(url)
        self.retries = retries
        self.backoff_first_s = backoff_first_s
        self._queue: queue.Queue[Request] = queue.Queue(queue_size)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("sent", "failed", "dropped", "retries"), 0)
        self._failing = False
        self._trouble = RateLimitedLog(log, LOG_INTERVAL_S)
        self._http = urllib3.PoolManager(num_pools=1, maxsize=1, timeout=urllib3.Timeout(total=timeout_s))
        self._thread = threading.Thread(target=self._run, name=f"outbox-{label}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def offer(self, request: Request) -> bool:
        """Queue a request for the worker; never waits: when the queue is full it is dropped and counted."""
        try:
            self._queue.put_nowait(request)
            return True
        except queue.Full:
            self._count(dropped=1)
            self._trouble.warning(
                f"{self.label}: request dropped",
                f"{self.shown_url} is {self._queue.maxsize} requests behind; dropped {request.what}",
            )
            return False

    def counts(self) -> schema.DeliveryCounts:
        """What became of the requests so far, for /metrics."""
        with self._lock:
            return schema.DeliveryCounts(**self._counts)

    def close(self, grace_s: float = 1.0) -> None:
        """Stop the worker (requests still queued are lost); waits at most ``grace_s`` for a request under way."""
        self._stop.set()
        self._thread.join(grace_s)
        self._http.clear()

    def _count(self, **more: int) -> None:
        with self._lock:
            for key, count in more.items():
                self._counts[key] += count

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                request = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._deliver(request)
            except Exception:  # a bug or an odd input must not end this receiver's thread for good
                self._count(failed=1)
                log.exception("%s: could not send %s", self.label, request.what)

    def _deliver(self, request: Request) -> None:
        """Try, and try again after a growing wait while the failure may pass; count how it ended."""
        for attempt in range(self.retries + 1):
            if attempt:
                self._count(retries=1)
                if self._stop.wait(min(BACKOFF_MAX_S, self.backoff_first_s * 2 ** (attempt - 1))):
                    return
            failure, worth_retrying = self._attempt(request)
            if failure is None:
                self._count(sent=1)
                if self._failing:
                    log.info("%s: %s answers again", self.label, self.shown_url)
                    self._failing = False
                return
            if not worth_retrying:
                break
        self._count(failed=1)
        self._failing = True
        self._trouble.warning(
            f"{self.label}: request failed",
            f"{self.shown_url}: {failure} after {attempt + 1} attempt(s); gave up on {request.what}",
        )

    def _attempt(self, request: Request) -> tuple[str | None, bool]:
        """One POST: (None, _) when the receiver took it, else (why, whether trying again may help)."""
        try:
            answer = self._http.request(
                "POST",
                self.url,
                body=request.body,
                headers=request.headers,
                retries=False,
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as error:  # refused, unreachable, timed out, TLS...
            return type(error).__name__ + _reason(error), True
        status = answer.status
        answer.close()  # the answer's body is not needed: no receiver may hold us reading it
        if 200 <= status < 300:
            return None, False
        return f"answered {status}", status in RETRY_STATUSES


def _reason(error: Exception) -> str:
    """The cause of a urllib3 error without its URL (which may carry a token)."""
    cause = getattr(error, "reason", None) or error.__context__
    return f" ({type(cause).__name__})" if cause is not None else ""
