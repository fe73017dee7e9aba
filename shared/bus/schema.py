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

import io
from typing import Annotated, Any, Final, Literal

import msgpack
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.config import CAMERA_NAME_PATTERN

VERSION: Final = 1

FRAMES = "frames"
FACES = "faces"
STATUS = "status"
STATS = "stats"
PEOPLE = "people"
WORKERS = "workers"
SIGHTINGS = "sightings"
SNAPSHOTS = "snapshots"
DELIVERY = "delivery"

UNKNOWN = "Unknown"
"""The name a face gets when it is nobody enrolled; no person may be called this (shared/people/names.py)."""

JPEG_START = b"\xff\xd8"
"""Every JPEG starts with this marker; a frame that does not is refused before anyone decodes it."""


# ---------------------------------------------------------------- Limits
#
# Nothing on the bus is trusted, so nothing a message says may cost a receiver
# much: its size is bounded (here for bodies and in shared/bus/sockets.py for
# whole parts), and so are its numbers and names (the types below).

MAX_BODY_BYTES: Final = 256 * 1024
"""Largest msgpack body (everything but the JPEG) anyone unpacks. A result with a hundred faces is ~15 kB and a
worker's gallery of 10,000 names ~200 kB; it also bounds what unpacking can build: each byte of msgpack makes at most
one Python object (~60 bytes), so a body never grows past ~16 MB while it is checked."""
MAX_BODY_ITEMS: Final = 16_384
"""Longest array or map in a body: faces, tracks and motion boxes number in the tens, the dispatcher's per-camera
counts and a gallery's names in the thousands."""
MAX_BODY_STR: Final = 16_384
"""Longest string (or bytes) in a body: names are a few dozen characters, a URL or an error text a few hundred."""

MAX_COORD: Final = 2.0
MIN_COORD: Final = -1.0
"""A normalised box lies on its frame (0..1); a detection may reach past an edge and a predicted box drift a little
beyond it, so -1..2 is accepted and anything further is a forgery, not a face (and would overflow a drawing)."""
MAX_SPEED: Final = 100.0
"""Fastest box motion believed, in frames per second: more is not a face moving."""
MAX_PIXELS_SIDE: Final = 65_535
"""Largest frame width or height a message may claim (JPEG's own limit)."""
MAX_FRAME_PIXELS: Final = 40_000_000
"""Largest frame anyone decodes, read from the JPEG's own header: an 8K camera's frame is 33 MP. A few kB of JPEG
can claim 30,000 x 30,000 pixels, which every worker and viewer would decode into 2.7 GB."""

Coord = Annotated[float, Field(ge=MIN_COORD, le=MAX_COORD)]
Extent = Annotated[float, Field(gt=0.0, le=MAX_COORD)]
BusBox = tuple[Coord, Coord, Extent, Extent]
"""A :data:`shared.boxes.NormBox` as received: x and y within -1..2, width and height within (0, 2]."""
Speed = Annotated[float, Field(ge=-MAX_SPEED, le=MAX_SPEED)]
CameraName = Annotated[str, Field(pattern=CAMERA_NAME_PATTERN.pattern)]
"""A camera's name as the configuration allows it (shared.config.CAMERA_NAME_PATTERN): a forged topic or field with
anything else is refused, so it can neither create a camera nor put odd characters in a log or a page."""
Name = Annotated[str, Field(max_length=1024)]
"""A person's or a worker's name (a person is a folder, whose name a file system keeps under 256 bytes)."""
MAX_TEXT: Final = 4096
"""Longest free text in a message (a source, an error, what changed): a sender cuts what it says to this."""
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Pixels = Annotated[int, Field(gt=0, le=MAX_PIXELS_SIDE)]
Timestamp = Annotated[float, Field(ge=0.0, le=1e11)]
"""Unix seconds: anything past the year 5000 is a forgery (it would pin 'the newest result' for good)."""


class SchemaError(ValueError):
    """A message that is not a well-formed facestream message of a known version."""


def topic(kind: str, name: str) -> bytes:
    """The bus topic of a message kind for one camera (or one service, for stats)."""
    return f"{kind}.{name}".encode()


def topic_kind(raw_topic: bytes) -> str:
    """The kind ('frames', 'faces'...) named by a topic."""
    return raw_topic.split(b".", 1)[0].decode("ascii", "replace")


class Message(BaseModel):
    """Common base: versioned, tolerant of added fields so newer senders stay readable.

    No float may be NaN or infinite: one would crash whoever draws or serialises it (``int(nan)``, bare ``NaN``
    in JSON).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)
    v: Literal[1] = VERSION


class FrameHeader(Message):
    """What a capture process says about each JPEG it publishes."""

    camera: CameraName
    frame_id: int = Field(ge=0)
    ts: Timestamp = Field(description="Capture time, Unix seconds.")
    width: Pixels
    height: Pixels
    motion: list[BusBox] | None = Field(
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

    box: BusBox
    name: Name = Field(description="The person, or 'Unknown'.")
    distance: float | None = Field(None, ge=0.0, le=10.0)
    confidence: float = Field(ge=0.0, le=100.0)
    track_id: int | None = Field(None, description="Same number for the same face from frame to frame.")
    motion: tuple[Speed, Speed] = Field(
        (0.0, 0.0), description="How fast the box moves (fractions of the frame per second, x and y)."
    )


class Result(Message):
    """A worker's answer for one frame of one camera."""

    camera: CameraName
    frame_id: int = Field(ge=0)
    capture_ts: Timestamp
    worker: Name
    width: Pixels
    height: Pixels
    faces: list[Face]
    timings: Timings
    published_ts: Timestamp
    encoded: int = Field(0, ge=0, description="Faces encoded for this frame; the others kept their track's name.")


class Status(Message):
    """A capture process's periodic word on its camera."""

    camera: CameraName
    state: Literal["live", "no_signal"]
    source: Text
    fps: float = Field(0.0, ge=0.0, le=10_000.0)
    width: int = Field(0, ge=0, le=MAX_PIXELS_SIDE)
    height: int = Field(0, ge=0, le=MAX_PIXELS_SIDE)
    last_frame_ts: Timestamp = 0.0
    frames: int = 0
    message: Text = ""


class DispatchStats(Message):
    """The dispatcher's running counts, per camera."""

    received: dict[str, int]
    dispatched: dict[str, int]
    dropped: dict[str, int]
    workers_ready: int
    workers_known: int
    unsent: int = Field(0, ge=0, description="Work it could not hand to a peer whose pipe was full (peer forgotten).")
    refused_done: int = Field(0, ge=0, description="Answers refused: not for work handed to that worker.")


class PeopleChanged(Message):
    """The known people changed (a photo or person added, removed or renamed): reload them."""

    change: Text = Field(description="What changed, for the log: e.g. 'added 2 photos of Ada'.")
    ts: Timestamp


class WorkerStatus(Message):
    """An inference worker says which known faces it is using: at start and after every reload."""

    worker: Name
    people: list[Name]
    photos: int
    loaded_ts: Timestamp
    reason: Text = ""


class Sighting(Message):
    """An appearance of a tracked face on a camera, as the sightings service keeps it (``sightings.<camera>``).

    ``appear`` when a track first shows in a camera's results (its name is often still "Unknown": the tracker
    names a face after two agreeing encodings), ``named`` when the name it is kept under or its visitor changes,
    ``leave`` once it has not been seen for a few seconds (services/sightings/book.py says why that long). ``id``
    is the row's: ``/api/sightings/<id>``. ``visitor`` is set on an Unknown sighting once its face was matched
    with the strangers seen before (a few seconds after it appears; services/sightings/visitors.py): the same
    number for the same unenrolled face on every camera and day, ``/api/visitors/<visitor>``.
    """

    event: Literal["appear", "named", "leave"]
    id: int = Field(ge=1, description="The sighting's row id, as /api/sightings/<id> serves it.")
    camera: CameraName
    track_id: int
    name: Name = Field(description="The name the track has most confidence in so far, or 'Unknown'.")
    confidence: float = Field(ge=0.0, le=100.0, description="The best confidence (%) of that name.")
    start: float = Field(description="Capture time of the first frame it was on, Unix seconds.")
    end: float = Field(description="Capture time of the last frame it was on so far, Unix seconds.")
    frames: int = Field(ge=1, description="Analysed frames it was on so far.")
    visitor: int | None = Field(
        None, ge=1, description="The stranger an Unknown sighting was recognised as (/api/visitors/<id>), once known."
    )
    ts: float = Field(description="When this was said, Unix seconds.")


class SnapshotHeader(Message):
    """A sighting's picture changed (``snapshots.<camera>``, ``[topic, header, jpeg]``): the JPEG is the camera's
    frame with its best face so far, the same file ``/api/sightings/<id>/snapshot.jpg`` serves. Sent by the
    sightings service each time it saves a better one, so a subscriber never reads the disk or waits for a write."""

    id: int = Field(ge=1, description="The sighting's row id.")
    camera: CameraName
    name: Name = Field(description="The name the sighting is kept under when the picture was taken, or 'Unknown'.")
    ts: Timestamp = Field(description="When the picture was saved, Unix seconds.")


class DeliveryCounts(Message):
    """What one outbound destination (the MQTT broker, a webhook, a push service) did with what it was given."""

    sent: int = Field(0, ge=0, description="Delivered (the broker took it, or the receiver answered 2xx).")
    failed: int = Field(0, ge=0, description="Given up after every retry.")
    dropped: int = Field(0, ge=0, description="Never tried: its queue was full or the broker away.")
    retries: int = Field(0, ge=0, description="Attempts after a first one failed.")


class DeliveryStats(Message):
    """A telling-others service's running counts (``delivery.<service>``), every few seconds, for /metrics."""

    service: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
    targets: dict[Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")], DeliveryCounts] = Field(
        max_length=64, description="By destination: 'broker', 'webhook-1', 'notify'... (never a URL: they hold tokens)."
    )


BODY_TYPES: dict[str, type[Message]] = {
    FACES: Result,
    STATUS: Status,
    STATS: DispatchStats,
    PEOPLE: PeopleChanged,
    WORKERS: WorkerStatus,
    SIGHTINGS: Sighting,
    DELIVERY: DeliveryStats,
}

PICTURE_TYPES: dict[str, type[Message]] = {FRAMES: FrameHeader, SNAPSHOTS: SnapshotHeader}
"""Kinds sent as ``[topic, header, jpeg]``, with the type of their header."""


def pack(message: Message) -> bytes:
    """Serialise a message for the bus."""
    return msgpack.packb(message.model_dump(mode="python"), use_bin_type=True)


def _unpack_dict(raw: bytes | memoryview) -> dict[str, Any]:
    if len(raw) > MAX_BODY_BYTES:  # checked before anything is unpacked (unpackb has no max_buffer_size)
        raise SchemaError(f"a body of {len(raw)} bytes (at most {MAX_BODY_BYTES})")
    try:
        data = msgpack.unpackb(
            bytes(raw),
            raw=False,
            strict_map_key=True,
            max_array_len=MAX_BODY_ITEMS,
            max_map_len=MAX_BODY_ITEMS,
            max_str_len=MAX_BODY_STR,
            max_bin_len=MAX_BODY_STR,
            max_ext_len=0,
        )
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
    header, jpeg = unpack_picture(FrameHeader, parts)
    return header, jpeg


def unpack_picture(model: type[Message], parts: list[Any]) -> tuple[Any, Any]:
    """Check a ``[topic, header, jpeg]`` message (a frame, a snapshot) whose header is a ``model``."""
    if len(parts) != 3:
        raise SchemaError(f"a {model.__name__} message has 3 parts, got {len(parts)}")
    header = unpack(model, parts[1])
    jpeg = parts[2]
    check_jpeg(jpeg)
    return header, jpeg


def check_jpeg(jpeg: Any) -> tuple[int, int]:
    """A frame's width and height from its JPEG header, nothing decoded (~40 us); SchemaError if it is not a JPEG
    or claims more than :data:`MAX_FRAME_PIXELS`."""
    too_large = f"a frame is at most {MAX_FRAME_PIXELS / 1e6:.0f} megapixels"
    if len(jpeg) < 4 or bytes(jpeg[:2]) != JPEG_START:
        raise SchemaError("the image part is not a JPEG")
    try:
        with Image.open(io.BytesIO(memoryview(jpeg)), formats=["JPEG"]) as image:
            width, height = image.size
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        raise SchemaError(too_large) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise SchemaError("the image part is not a JPEG") from None
    if width * height > MAX_FRAME_PIXELS:
        raise SchemaError(f"{too_large}: this one is {width}x{height}")
    return width, height


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
    box: BusBox
    encode: bool


class WorkMessage(Message):
    """The dispatcher's answer to request ``seq``."""

    seq: int = Field(ge=0)
    tracks: list[TrackHint] = []
    sweep: BusBox | None = Field(None, description="This frame's tile of the camera's slow sweep for small faces.")
    search_motion: bool = Field(
        True, description="Search the regions where the frame moved for small faces (due a few times a second)."
    )


class Detection(Message):
    """A face a worker found: matched to a known track, and named if it was encoded."""

    box: BusBox
    track_id: int | None = None
    name: Name | None = Field(None, description="None when the face was not encoded (its track keeps its name).")
    distance: float | None = Field(None, ge=0.0, le=10.0)
    confidence: float = Field(0.0, ge=0.0, le=100.0)
    leaning: Name | None = Field(
        None, description="The person this encoding is near enough to keep a track named as (matcher.Match.leaning)."
    )


class DoneMessage(Message):
    """What a worker found in the frame it was given for request ``seq``."""

    worker: str = Field(min_length=1, max_length=128)
    seq: int = Field(ge=0)
    camera: CameraName
    frame_id: int = Field(ge=0)
    capture_ts: Timestamp
    width: Pixels
    height: Pixels
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
