"""Typed publisher and subscriber sockets on the broker's XSUB/XPUB forwarder.

Publishers connect to the broker's XSUB side, subscribers to its XPUB side, so
every process knows one address and any number of each can come and go. High
water marks are small on purpose: a frame that cannot be delivered at once is
worth less than the next one, so the bus drops instead of queueing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import zmq

from shared.bus import schema
from shared.config import Settings
from shared.log import RateLimitedLog

FRAME_HWM = 4
"""Frames buffered per peer before ZeroMQ drops: enough for a burst, never a backlog."""

log = logging.getLogger(__name__)


class Publisher:
    """Publishes frames and messages to the broker."""

    def __init__(self, settings: Settings, context: zmq.Context | None = None) -> None:
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.PUB)
        self.socket.setsockopt(zmq.SNDHWM, FRAME_HWM * 8)
        self.socket.setsockopt(zmq.LINGER, 500)
        self.socket.connect(settings.bus_endpoint("publish"))

    def send_frame(self, header: schema.FrameHeader, jpeg: bytes | memoryview) -> None:
        """Publish one JPEG frame; the JPEG buffer is sent without a copy."""
        self.socket.send_multipart(
            [schema.topic(schema.FRAMES, header.camera), schema.pack(header), jpeg],
            copy=False,
        )

    def send(self, kind: str, name: str, message: Any) -> None:
        """Publish one ``[topic, body]`` message of the given kind."""
        self.socket.send_multipart([schema.topic(kind, name), schema.pack(message)])

    def close(self) -> None:
        """Close the socket, flushing what is queued for up to the linger time."""
        self.socket.close()


class Subscriber:
    """Receives messages whose topics start with the given prefixes, checking each one.

    Malformed messages are counted and logged at a limited rate, then skipped:
    one bad sender must never stop a receiver.
    """

    def __init__(
        self,
        settings: Settings,
        prefixes: Iterable[str],
        context: zmq.Context | None = None,
        hwm: int = FRAME_HWM * 8,
    ) -> None:
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.RCVHWM, hwm)
        self.socket.setsockopt(zmq.LINGER, 0)
        for prefix in prefixes:
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self.socket.connect(settings.bus_endpoint("subscribe"))
        self.bad = RateLimitedLog(log)

    def receive(self, timeout_ms: int) -> tuple[str, Any, Any] | None:
        """Wait up to ``timeout_ms`` for one good message.

        Returns ``(kind, message, jpeg)``: for frames the header and the JPEG
        buffer, for the rest the decoded body and None. Returns None on timeout
        or when the message received was bad (it is logged and counted).
        """
        if not self.socket.poll(timeout_ms):
            return None
        parts = self.socket.recv_multipart(copy=False)
        buffers = [part.buffer for part in parts]
        try:
            kind = schema.topic_kind(bytes(buffers[0]))
            if kind == schema.FRAMES:
                header, jpeg = schema.unpack_frame(buffers)
                return kind, header, jpeg
            return kind, schema.unpack_body(buffers), None
        except schema.SchemaError as error:
            self.bad.warning("dropped malformed bus message", str(error))
            return None

    def close(self) -> None:
        """Close the socket."""
        self.socket.close()
