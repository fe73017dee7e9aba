"""Every message that crosses a process boundary, and every word on the wire: topics, fields, checked encode/decode.

Every message is msgpack with a version field ``v``. Frames travel as three
frames ``[topic, header, jpeg]`` so the JPEG is never copied into the header;
results, status and stats as ``[topic, body]``. Another program can follow the
bus with only pyzmq and msgpack: the README documents these fields. The
dispatcher and the workers speak a small request/answer protocol of their own
on another socket (below, "Dispatcher <-> worker"), with the same checks.

Decoding never trusts the sender: anything of an unknown version or shape
raises :class:`SchemaError`, which services count and log at a limited rate.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgpack
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.boxes import NormBox

VERSION: Final = 1

FRAMES = "frames"
FACES = "faces"
STATUS = "status"
STATS = "stats"
PEOPLE = "people"
WORKERS = "workers"
SIGHTINGS = "sightings"

UNKNOWN = "Unknown"
"""The name a face gets when it is nobody enrolled; no person may be called this (shared/people/names.py)."""

JPEG_START = b"\xff\xd8"
"""Every JPEG starts with this marker; a frame that does not is refused before anyone decodes it."""


class SchemaError(ValueError):
    """A message that is not a well-formed facestream message of a known version."""


def topic(kind: str, name: str) -> bytes:
    """The bus topic of a message kind for one camera (or one service, for stats)."""
    return f"{kind}.{name}".encode()


def topic_kind(raw_topic: bytes) -> str:
    """The kind ('frames', 'faces'...) named by a topic."""
    return raw_topic.split(b".", 1)[0].decode("ascii", "replace")


class Message(BaseModel):
    """Common base: versioned, tolerant of added fields so newer senders stay readable."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    v: Literal[1] = VERSION


class FrameHeader(Message):
    """What a capture process says about each JPEG it publishes."""

    camera: str
    frame_id: int = Field(ge=0)
    ts: float = Field(description="Capture time, Unix seconds.")
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    motion: list[NormBox] | None = Field(
        None,
        description=(
            "Where the picture changed against the camera's recent background, normalised boxes; "
            "None when the sender does not measure motion."
        ),
    )


class Timings(Message):
    """Where a worker's time went on one frame, in milliseconds."""

    queue_ms: float = 0.0
    decode_ms: float = 0.0
    detect_ms: float = 0.0
    encode_ms: float = 0.0
    match_ms: float = 0.0
    total_ms: float = 0.0


class Face(Message):
    """One recognised face: box normalised to the frame (x, y, w, h in 0..1)."""

    box: NormBox
    name: str = Field(description="The person, or 'Unknown'.")
    distance: float | None = None
    confidence: float = Field(ge=0.0, le=100.0)
    track_id: int | None = Field(None, description="Same number for the same face from frame to frame.")
    motion: tuple[float, float] = Field(
        (0.0, 0.0), description="How fast the box moves (fractions of the frame per second, x and y)."
    )


class Result(Message):
    """A worker's answer for one frame of one camera."""

    camera: str
    frame_id: int = Field(ge=0)
    capture_ts: float
    worker: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    faces: list[Face]
    timings: Timings
    published_ts: float
    encoded: int = Field(0, ge=0, description="Faces encoded for this frame; the others kept their track's name.")


class Status(Message):
    """A capture process's periodic word on its camera."""

    camera: str
    state: Literal["live", "no_signal"]
    source: str
    fps: float = 0.0
    width: int = 0
    height: int = 0
    last_frame_ts: float = 0.0
    frames: int = 0
    message: str = ""


class DispatchStats(Message):
    """The dispatcher's running counts, per camera."""

    received: dict[str, int]
    dispatched: dict[str, int]
    dropped: dict[str, int]
    workers_ready: int
    workers_known: int


class PeopleChanged(Message):
    """The known people changed (a photo or person added, removed or renamed): reload them."""

    change: str = Field(description="What changed, for the log: e.g. 'added 2 photos of Ada'.")
    ts: float


class WorkerStatus(Message):
    """An inference worker says which known faces it is using: at start and after every reload."""

    worker: str
    people: list[str]
    photos: int
    loaded_ts: float
    reason: str = ""


class Sighting(Message):
    """An appearance of a tracked face on a camera, as the sightings service keeps it (``sightings.<camera>``).

    ``appear`` when a track first shows in a camera's results (its name is often still "Unknown": the tracker
    names a face after two agreeing encodings), ``named`` when the name it is kept under changes, ``leave`` once
    it has not been seen for a few seconds (services/sightings/book.py says why that long). ``id`` is the
    row's: ``/api/sightings/<id>``.
    """

    event: Literal["appear", "named", "leave"]
    id: int = Field(ge=1, description="The sighting's row id, as /api/sightings/<id> serves it.")
    camera: str
    track_id: int
    name: str = Field(description="The name the track has most confidence in so far, or 'Unknown'.")
    confidence: float = Field(ge=0.0, le=100.0, description="The best confidence (%) of that name.")
    start: float = Field(description="Capture time of the first frame it was on, Unix seconds.")
    end: float = Field(description="Capture time of the last frame it was on so far, Unix seconds.")
    frames: int = Field(ge=1, description="Analysed frames it was on so far.")
    ts: float = Field(description="When this was said, Unix seconds.")


BODY_TYPES: dict[str, type[Message]] = {
    FACES: Result,
    STATUS: Status,
    STATS: DispatchStats,
    PEOPLE: PeopleChanged,
    WORKERS: WorkerStatus,
    SIGHTINGS: Sighting,
}


def pack(message: Message) -> bytes:
    """Serialise a message for the bus."""
    return msgpack.packb(message.model_dump(mode="python"), use_bin_type=True)


def _unpack_dict(raw: bytes | memoryview) -> dict[str, Any]:
    try:
        data = msgpack.unpackb(bytes(raw), raw=False, strict_map_key=True)
    except Exception as error:  # msgpack raises several unrelated types
        raise SchemaError(f"not msgpack ({type(error).__name__}: {error})") from None
    if not isinstance(data, dict):
        raise SchemaError(f"expected a map, got {type(data).__name__}")
    if data.get("v") != VERSION:
        raise SchemaError(f"unknown version v={data.get('v')!r}")
    return data


def unpack(model: type[Message], raw: bytes | memoryview) -> Any:
    """Parse and check one message body of the given type."""
    data = _unpack_dict(raw)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SchemaError(f"bad {model.__name__}: {where}: {first['msg']}") from None


def unpack_frame(parts: list[Any]) -> tuple[FrameHeader, Any]:
    """Check a frame message ``[topic, header, jpeg]``; return the header and the JPEG buffer."""
    if len(parts) != 3:
        raise SchemaError(f"a frame message has 3 parts, got {len(parts)}")
    header = unpack(FrameHeader, parts[1])
    jpeg = parts[2]
    if len(jpeg) < 4 or bytes(jpeg[:2]) != JPEG_START:
        raise SchemaError("the image part is not a JPEG")
    return header, jpeg


def unpack_body(parts: list[Any]) -> Message:
    """Check a ``[topic, body]`` message whose type the topic names."""
    if len(parts) != 2:
        raise SchemaError(f"expected 2 parts, got {len(parts)}")
    kind = topic_kind(bytes(parts[0]))
    model = BODY_TYPES.get(kind)
    if model is None:
        raise SchemaError(f"unknown topic kind {kind!r}")
    return unpack(model, parts[1])


# ---------------------------------------------------------------- Dispatcher <-> worker
#
# A worker's DEALER socket sends ``[b"ready", {v, worker, seq}]`` when it is
# idle, and repeats it every second as a heartbeat while it waits. The
# dispatcher's ROUTER answers ``[b"work", {v, seq, tracks}, frame header, jpeg]``,
# where ``tracks`` are the camera's known faces (where they should be in this
# frame, and whether each needs a fresh encoding). The worker answers
# ``[b"done", {v, worker, seq, ...detections}]`` and asks again with ``seq + 1``;
# the dispatcher's tracker names the faces and publishes the result. ``seq``
# makes a repeated request recognisable, so it never gets two frames.

READY = b"ready"
WORK = b"work"
DONE = b"done"


class ReadyMessage(Message):
    """A worker's request for its next frame."""

    worker: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0)


class TrackHint(Message):
    """A face the camera already shows: where it should be now, and whether to encode it again."""

    track_id: int
    box: NormBox
    encode: bool


class WorkMessage(Message):
    """The dispatcher's answer to request ``seq``."""

    seq: int = Field(ge=0)
    tracks: list[TrackHint] = []
    sweep: NormBox | None = Field(None, description="This frame's tile of the camera's slow sweep for small faces.")
    search_motion: bool = Field(
        True, description="Search the regions where the frame moved for small faces (due a few times a second)."
    )


class Detection(Message):
    """A face a worker found: matched to a known track, and named if it was encoded."""

    box: NormBox
    track_id: int | None = None
    name: str | None = Field(None, description="None when the face was not encoded (its track keeps its name).")
    distance: float | None = None
    confidence: float = Field(0.0, ge=0.0, le=100.0)
    leaning: str | None = Field(
        None, description="The person this encoding is near enough to keep a track named as (matcher.Match.leaning)."
    )


class DoneMessage(Message):
    """What a worker found in the frame it was given for request ``seq``."""

    worker: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0)
    camera: str
    frame_id: int = Field(ge=0)
    capture_ts: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    detections: list[Detection]
    timings: Timings


def parse_worker_message(parts: list[Any]) -> ReadyMessage | DoneMessage:
    """Check a worker's message (without the ROUTER's identity part)."""
    if len(parts) != 2 or bytes(parts[0]) not in (READY, DONE):
        raise SchemaError("expected [ready|done, body]")
    message: ReadyMessage | DoneMessage = unpack(ReadyMessage if bytes(parts[0]) == READY else DoneMessage, parts[1])
    return message


def parse_work(parts: list[Any]) -> tuple[WorkMessage, FrameHeader, Any]:
    """Check the dispatcher's answer; return it with the frame header and JPEG."""
    if len(parts) != 4 or bytes(parts[0]) != WORK:
        raise SchemaError("expected [work, body, header, jpeg]")
    work = unpack(WorkMessage, parts[1])
    header, jpeg = unpack_frame([topic(FRAMES, "x"), parts[2], parts[3]])
    return work, header, jpeg
