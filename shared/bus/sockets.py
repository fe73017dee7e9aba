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

MAX_PART_BYTES = 8 * 1024 * 1024
"""The largest message part any socket of facestream receives (ZMQ_MAXMSGSIZE; ZeroMQ checks each part of a multipart
message): the largest legal part is a frame's JPEG, and a 4K frame at the default quality (80) is at most ~5.5 MB even
of pure noise (measured with OpenCV; a real scene is a fraction of that). A peer that sends more is disconnected by
ZeroMQ before the part is buffered, so a forged 20 MB message costs nothing. A capture whose frame would exceed it
(4K at quality 95 or more) drops that frame with a log line instead (:meth:`Publisher.send_frame`)."""

MAX_SUBSCRIPTION_BYTES = 256
"""The largest subscription the forwarder takes from a subscriber: topics are ``kind.camera``, a few dozen bytes."""


def limit_receive(socket: zmq.Socket, max_bytes: int = MAX_PART_BYTES) -> None:
    """Bound what one message part received on this socket may weigh; call it on every receiving socket."""
    socket.setsockopt(zmq.MAXMSGSIZE, max_bytes)


class FrameTooLarge(ValueError):
    """A frame's JPEG is larger than any receiver takes (:data:`MAX_PART_BYTES`)."""


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
        """Publish one JPEG frame; the JPEG buffer is sent without a copy.

        Raises :class:`FrameTooLarge` rather than send what every receiver would refuse (and disconnect us for).
        """
        if len(jpeg) > MAX_PART_BYTES:
            raise FrameTooLarge(f"a JPEG of {len(jpeg)} bytes is larger than the bus takes ({MAX_PART_BYTES})")
        self.socket.send_multipart(
            [schema.topic(schema.FRAMES, header.camera), schema.pack(header), jpeg],
            copy=False,
            flags=zmq.NOBLOCK,  # a PUB socket drops rather than block; NOBLOCK says so and keeps it so
        )

    def send_snapshot(self, header: schema.SnapshotHeader, jpeg: bytes | memoryview) -> None:
        """Publish a sighting's picture (``snapshots.<camera>``); dropped, never blocking, like every message."""
        if len(jpeg) > MAX_PART_BYTES:
            raise FrameTooLarge(f"a JPEG of {len(jpeg)} bytes is larger than the bus takes ({MAX_PART_BYTES})")
        self.socket.send_multipart(
            [schema.topic(schema.SNAPSHOTS, header.camera), schema.pack(header), jpeg], copy=False, flags=zmq.NOBLOCK
        )

    def send(self, kind: str, name: str, message: Any) -> None:
        """Publish one ``[topic, body]`` message of the given kind; never blocks (past the high water mark, drops)."""
        self.socket.send_multipart([schema.topic(kind, name), schema.pack(message)], flags=zmq.NOBLOCK)

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
        limit_receive(self.socket)
        for prefix in prefixes:
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self.socket.connect(settings.bus_endpoint("subscribe"))
        self.bad = RateLimitedLog(log)

    def receive(self, timeout_ms: int) -> tuple[str, Any, Any] | None:
        """Wait up to ``timeout_ms`` for one good message.

        Returns ``(kind, message, jpeg)``: for frames and snapshots the header
        and the JPEG buffer, for the rest the decoded body and None. Returns None on timeout
        or when the message received was bad (it is logged and counted).
        """
        if not self.socket.poll(timeout_ms):
            return None
        parts = self.socket.recv_multipart(copy=False)
        buffers = [part.buffer for part in parts]
        try:
            kind = schema.topic_kind(bytes(buffers[0]))
            picture = schema.PICTURE_TYPES.get(kind)
            if picture is not None:
                header, jpeg = schema.unpack_picture(picture, buffers)
                return kind, header, jpeg
            return kind, schema.unpack_body(buffers), None
        except schema.SchemaError as error:
            self.bad.warning("dropped malformed bus message", str(error))
            return None

    def close(self) -> None:
        """Close the socket."""
        self.socket.close()
