"""What the web's code does differently under gevent, in one place.

Under ``WEB_SERVER=gevent`` gunicorn patches the standard library in the
worker, so threads become greenlets on one event loop: cheap enough to hold
thousands of idle viewers, but anything that blocks the loop stalls every
connection. Two things would: a ZeroMQ poll (so the bus listener takes green
sockets) and CPU work that does not yield (drawing a frame, finding faces in
an upload), which runs on gevent's pool of native threads instead. Without
gevent (``WEB_SERVER=threads``, the Flask test client) both are plain calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import zmq
import zmq.green
from gevent import get_hub
from gevent.monkey import is_module_patched

T = TypeVar("T")


def cooperative() -> bool:
    """True in a process gevent has patched: blocking calls must yield to the event loop."""
    return bool(is_module_patched("socket"))


def bus_context() -> zmq.Context:
    """The ZeroMQ context for this process's bus sockets: green ones under gevent, so a poll yields."""
    return zmq.green.Context.instance() if cooperative() else zmq.Context.instance()


def off_loop(work: Callable[..., T], *args: object) -> T:
    """``work(*args)``, on a native thread under gevent so the event loop keeps serving meanwhile."""
    if cooperative():
        return get_hub().threadpool.apply(work, args)
    return work(*args)
