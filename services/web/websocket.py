"""A server WebSocket on the request's own connection, read only when the handler asks for a message.

wsproto speaks the protocol; this is the I/O around it. Why not flask-sock:
its reader thread reads the socket as fast as the client writes and queues
every message in an unbounded list, so a host that sends frames faster than
they are taken (or never reads its acks) grows the server's memory without
limit, and under gevent a flooding client can keep that thread from ever
yielding. Here the socket is read in the handler's greenlet, a bounded chunk
at a time and only when no whole message is waiting: a sender faster than the
handler is held back by TCP itself. gunicorn hands over its socket as
``gunicorn.socket``; when the handler ends, the answer tells gunicorn the
connection is already dealt with.
"""

from __future__ import annotations

import logging
import socket
from collections import deque
from typing import Any

from flask import Response
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

log = logging.getLogger(__name__)

READ_BYTES = 64 * 1024
"""Read at most this much at a time: at most one chunk of messages waits in memory beyond the one being built."""
MESSAGE_TOO_BIG = 1009
POLICY_VIOLATION = 1008
NORMAL_CLOSURE = 1000


class Closed(Exception):
    """The connection is closed (by the client, by us, or by the network)."""


class NotWebSocket(ValueError):
    """The request is not a well-formed WebSocket upgrade (answered with a 400)."""


def is_upgrade(environ: dict[str, Any]) -> bool:
    """Whether the request asks to become a WebSocket."""
    return environ.get("HTTP_UPGRADE", "").lower() == "websocket" and "gunicorn.socket" in environ


def _request_bytes(environ: dict[str, Any]) -> bytes:
    """The upgrade request as it came, rebuilt from the WSGI environ for wsproto to read."""
    lines = [f"GET {environ.get('RAW_URI') or environ.get('PATH_INFO', '/')} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            lines.append(f"{key[5:].replace('_', '-').title()}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class WebSocket:
    """One accepted WebSocket: ``receive()`` a message, ``send_text()``, ``close()``."""

    def __init__(self, environ: dict[str, Any], max_message_bytes: int, send_timeout_s: float) -> None:
        self._socket: socket.socket = environ["gunicorn.socket"]
        self._max_message_bytes = max_message_bytes
        self._send_timeout_s = send_timeout_s
        self._connection = WSConnection(ConnectionType.SERVER)
        self._waiting: deque[bytes | str] = deque()
        self._building: bytearray | None = None
        self._building_text = False
        self.closed = False
        try:
            self._connection.receive_data(_request_bytes(environ))
            requests = [event for event in self._connection.events() if isinstance(event, Request)]
        except RemoteProtocolError as problem:
            raise NotWebSocket(str(problem)) from problem
        if not requests:
            raise NotWebSocket("no upgrade request")
        self._socket.sendall(self._connection.send(AcceptConnection()))

    def receive(self, timeout_s: float | None) -> bytes | str | None:
        """The next whole message (bytes for binary, str for text), or None when none came within the timeout."""
        while not self._waiting:
            if self.closed:
                raise Closed("closed")
            self._socket.settimeout(timeout_s)
            try:
                data = self._socket.recv(READ_BYTES)
            except TimeoutError:
                return None
            except OSError as error:
                self.closed = True
                raise Closed(str(error)) from error
            if not data:
                self.closed = True
                raise Closed("the client went away")
            self._take(data)
        return self._waiting.popleft()

    def _take(self, data: bytes) -> None:
        try:
            self._connection.receive_data(data)
            for event in self._connection.events():
                if isinstance(event, (BytesMessage, TextMessage)):
                    self._build(event.data, isinstance(event, TextMessage), event.message_finished)
                elif isinstance(event, Ping):
                    self._send_raw(self._connection.send(event.response()))
                elif isinstance(event, CloseConnection):
                    self._send_raw(self._connection.send(event.response()))
                    self.closed = True
        except (LocalProtocolError, RemoteProtocolError) as error:
            log.warning("websocket: the client broke the protocol (%s): closed", error)
            self.closed = True

    def _build(self, data: bytes | bytearray | str, text: bool, finished: bool) -> None:
        """Join a message's fragments; one larger than allowed closes the connection (1009) unread."""
        if self._building is None:
            self._building, self._building_text = bytearray(), text
        self._building += data.encode() if isinstance(data, str) else data
        if len(self._building) > self._max_message_bytes:
            self.close(MESSAGE_TOO_BIG, f"a message may be {self._max_message_bytes} bytes at most")
            raise Closed("message too big")
        if finished:
            whole = bytes(self._building)
            self._waiting.append(whole.decode() if self._building_text else whole)
            self._building = None

    def send_text(self, text: str) -> None:
        """Send one text message."""
        if self.closed:
            raise Closed("closed")
        self._send_raw(self._connection.send(TextMessage(data=text)))

    def _send_raw(self, data: bytes) -> None:
        try:
            self._socket.settimeout(self._send_timeout_s)  # a client that reads nothing is let go
            self._socket.sendall(data)
        except OSError as error:
            self.closed = True
            raise Closed(str(error)) from error

    def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        """Say goodbye (if the connection still can) and stop."""
        if self.closed:
            return
        self.closed = True
        try:
            self._socket.settimeout(2.0)
            self._socket.sendall(self._connection.send(CloseConnection(code=code, reason=reason)))
        except (OSError, LocalProtocolError):
            pass


class Handled(Response):
    """The answer to a WebSocket request once it is over: gunicorn is told the connection is done with."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raise StopIteration  # gunicorn's workers close the connection on it, writing nothing
