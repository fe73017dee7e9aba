"""Read and drop the body of a refused request after answering it, so the client reads the answer.

A request refused before its body is read (a 413 for an upload over the
limit, a 401 for an upload without a credential) is answered at once. If the
server then closed the connection with the body still arriving, the kernel
would reset it and the client, still sending, would see a broken pipe instead
of the answer. So, like a web server's lingering close, the rest of the body
is read and dropped after the answer has been written, up to a bound in bytes
and in time; a client that sends more or slower than that is cut off.
"""

from __future__ import annotations

import logging
import time
from typing import BinaryIO

from flask import Flask, Response, request
from gevent import Timeout

from services.web.green import cooperative

DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
"""The most of a refused body read: several times any upload limit a person would set."""
DRAIN_LIMIT_S = 10.0
"""The longest a refused body is waited for."""
CHUNK_BYTES = 64 * 1024

log = logging.getLogger(__name__)


def drain(body: BinaryIO, limit_bytes: int = DRAIN_LIMIT_BYTES, limit_s: float = DRAIN_LIMIT_S) -> int:
    """Read ``body`` to its end or to the limits; the number of bytes dropped."""
    dropped = 0
    deadline = time.monotonic() + limit_s
    timeout = Timeout(limit_s, False) if cooperative() else None
    if timeout is not None:
        timeout.start()
    try:
        while dropped < limit_bytes and time.monotonic() < deadline:
            chunk = body.read(min(CHUNK_BYTES, limit_bytes - dropped))
            if not chunk:
                break
            dropped += len(chunk)
    except (OSError, ValueError) as problem:  # the client went away: nothing left to drain
        log.debug("refused body not drained: %s", problem)
    finally:
        if timeout is not None:
            timeout.cancel()
    return dropped


def has_body() -> bool:
    """Whether the request announced a body (a length or chunked transfer)."""
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def install_body_drain(app: Flask) -> None:
    """After every refusal of a request with a body, drain that body once the answer is written."""

    @app.after_request
    def drain_refused_body(response: Response) -> Response:
        if response.status_code >= 400 and has_body():
            stream = request.environ.get("wsgi.input")
            if stream is not None:
                response.call_on_close(lambda: drain(stream))
        return response
