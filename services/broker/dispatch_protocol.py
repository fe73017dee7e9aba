"""The small request/answer protocol between the dispatcher and inference workers.

A worker's DEALER socket sends ``[b"ready", {v, worker, seq}]`` when it is
idle, and repeats it every second as a heartbeat while it waits. The
dispatcher's ROUTER answers ``[b"work", {v, seq, tracks}, frame header, jpeg]``,
where ``tracks`` are the camera's known faces (where they should be in this
frame, and whether each needs a fresh encoding). The worker answers
``[b"done", {v, worker, seq, ...detections}]`` and asks again with ``seq + 1``;
the dispatcher's tracker names the faces and publishes the result. ``seq``
makes a repeated request recognisable, so it never gets two frames.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared import schema

READY = b"ready"
WORK = b"work"
DONE = b"done"


class ReadyMessage(schema._Message):
    """A worker's request for its next frame."""

    worker: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0)


class TrackHint(schema._Message):
    """A face the camera already shows: where it should be now, and whether to encode it again."""

    track_id: int
    box: tuple[float, float, float, float]
    encode: bool


class WorkMessage(schema._Message):
    """The dispatcher's answer to request ``seq``."""

    seq: int = Field(ge=0)
    tracks: list[TrackHint] = []


class Detection(schema._Message):
    """A face a worker found: matched to a known track, and named if it was encoded."""

    box: tuple[float, float, float, float]
    track_id: int | None = None
    name: str | None = Field(None, description="None when the face was not encoded (its track keeps its name).")
    distance: float | None = None
    confidence: float = Field(0.0, ge=0.0, le=100.0)
    leaning: str | None = Field(
        None, description="The person this encoding is near enough to keep a track named as (matcher.Match.leaning)."
    )


class DoneMessage(schema._Message):
    """What a worker found in the frame it was given for request ``seq``."""

    worker: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0)
    camera: str
    frame_id: int = Field(ge=0)
    capture_ts: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    detections: list[Detection]
    timings: schema.Timings


def parse_worker_message(parts: list[Any]) -> ReadyMessage | DoneMessage:
    """Check a worker's message (without the ROUTER's identity part)."""
    if len(parts) != 2 or bytes(parts[0]) not in (READY, DONE):
        raise schema.SchemaError("expected [ready|done, body]")
    return schema.unpack(ReadyMessage if bytes(parts[0]) == READY else DoneMessage, parts[1])


def parse_work(parts: list[Any]) -> tuple[WorkMessage, schema.FrameHeader, Any]:
    """Check the dispatcher's answer; return it with the frame header and JPEG."""
    if len(parts) != 4 or bytes(parts[0]) != WORK:
        raise schema.SchemaError("expected [work, body, header, jpeg]")
    work = schema.unpack(WorkMessage, parts[1])
    header, jpeg = schema.unpack_frame([schema.topic(schema.FRAMES, "x"), parts[2], parts[3]])
    return work, header, jpeg
