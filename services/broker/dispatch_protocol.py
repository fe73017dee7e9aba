"""The small request/answer protocol between the dispatcher and inference workers.

A worker's DEALER socket sends ``[b"ready", {v, worker, seq}]`` when it is
idle, and repeats it every second as a heartbeat while it waits. The
dispatcher's ROUTER answers ``[b"work", {v, seq}, frame header, jpeg]``.
``seq`` rises by one per finished frame, so a repeated request is recognised
and never gets two frames.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared import schema

READY = b"ready"
WORK = b"work"


class ReadyMessage(schema._Message):
    """A worker's request for its next frame."""

    worker: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0)


class WorkMessage(schema._Message):
    """The dispatcher's answer to request ``seq``."""

    seq: int = Field(ge=0)


def parse_ready(parts: list[Any]) -> ReadyMessage:
    """Check a worker's request (without the ROUTER's identity part)."""
    if len(parts) != 2 or bytes(parts[0]) != READY:
        raise schema.SchemaError("expected [ready, body]")
    return schema.unpack(ReadyMessage, parts[1])


def parse_work(parts: list[Any]) -> tuple[WorkMessage, schema.FrameHeader, Any]:
    """Check the dispatcher's answer; return it with the frame header and JPEG."""
    if len(parts) != 4 or bytes(parts[0]) != WORK:
        raise schema.SchemaError("expected [work, body, header, jpeg]")
    work = schema.unpack(WorkMessage, parts[1])
    header, jpeg = schema.unpack_frame([schema.topic(schema.FRAMES, "x"), parts[2], parts[3]])
    return work, header, jpeg
