"""Visitor ids for Unknown sightings: which of their faces to encode, when to decide, and what is stored.

While a sighting is Unknown, the face of a frame is sent to the encoder
(services/sightings/encoder.py) every :data:`ENCODE_SPACING_S` of capture time,
if it is at least :data:`MIN_FACE_PX` wide, until :data:`MAX_ENCODINGS` came
back. With them all (or at its close, with those it has, if that is at least
:data:`~shared.faces.visitors.MIN_ENCODINGS`) the sighting is matched with
the visitors seen before (shared/faces/visitors.py): it joins the one it is,
or becomes a new one. A sighting that turns out to be someone
known leaves its visitor again, and its encodings are deleted. A closing
sighting waits for its encodings under way (at most :data:`CLOSE_WAIT_S`),
so its leave message says which visitor it was.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine

from services.sightings.book import Appearance
from services.sightings.encoder import EncodeJob, FaceEncoder
from services.sightings.images import RecentFrames
from shared.boxes import NormBox
from shared.bus import schema
from shared.config import Settings
from shared.faces.matcher import load_background
from shared.faces.visitors import MAX_ENCODINGS, MIN_ENCODINGS, VisitorIndex, from_bytes, to_bytes
from shared.sightings import visitor_store

log = logging.getLogger("sightings")

ENCODE_SPACING_S = 1.0
"""Capture seconds between the encodings of one sighting: frames a moment apart differ a little (pose,
expression, light), so their agreement means something; back-to-back frames would agree by being the same."""
MIN_FACE_PX = 40
"""Narrower faces (in the camera's pixels) are not encoded for a visitor id: dlib's chip of a smaller face is
mostly guesswork, and a guessed encoding is how two strangers come to share an id."""
MAX_ATTEMPTS = 2 * MAX_ENCODINGS
"""Encodings asked for per sighting, failed ones included: a face that keeps failing stops costing work."""
CLOSE_WAIT_S = 5.0
"""A closed sighting waits at most this long for its encodings under way before it is decided without them."""


@dataclass
class Samples:
    """What one Unknown sighting has towards its visitor id."""

    appearance: Appearance
    asked: int = 0
    last_asked_ts: float = -math.inf
    """Capture time of the frame last sent to the encoder."""
    waiting: int = 0
    encodings: list[np.ndarray] = field(default_factory=list)
    decided: bool = False

    def due(self, capture_ts: float, face_px: float) -> bool:
        """Whether this frame's face should be encoded."""
        return (
            not self.decided
            and len(self.encodings) + self.waiting < MAX_ENCODINGS
            and self.asked < MAX_ATTEMPTS
            and capture_ts - self.last_asked_ts >= ENCODE_SPACING_S
            and face_px >= MIN_FACE_PX
        )

    def enough(self) -> bool:
        """Whether there are encodings enough to give the sighting a visitor id."""
        return len(self.encodings) >= MIN_ENCODINGS


class Visitors:
    """The visitor ids of one sightings service: the encoder, the known visitors' encodings, the open samples."""

    def __init__(self, engine: Engine, index: VisitorIndex, encoder: FaceEncoder) -> None:
        self.engine = engine
        self.index = index
        self.encoder = encoder
        self.samples: dict[int, Samples] = {}
        """By sighting row id: the Unknown sightings still gathering encodings or waiting to be decided."""

    @classmethod
    def start(cls, settings: Settings, engine: Engine) -> Visitors:
        """The visitors of the database (those nobody named), and the encoder thread, started."""
        index = VisitorIndex(load_background(settings.background_file), ratio=settings.visitor_ratio)
        for visitor, blob in visitor_store.unnamed_encodings(engine):
            index.add(visitor, from_bytes(blob))
        log.info("visitor ids: %d visitors known (%d encodings)", len(index), index.encodings)
        encoder = FaceEncoder()
        encoder.start()
        return cls(engine, index, encoder)

    def offer(self, appearance: Appearance, box: NormBox, result: schema.Result, frames: RecentFrames) -> None:
        """One face of an open sighting in a result: sent to the encoder if the sighting is Unknown and due one."""
        if appearance.row_id is None or appearance.name != schema.UNKNOWN or appearance.visitor is not None:
            return  # someone known, or a visitor already (a named visitor's sighting back to Unknown for a frame)
        if self.encoder.unusable:
            return
        samples = self.samples.setdefault(appearance.row_id, Samples(appearance))
        if not samples.due(result.capture_ts, box[2] * result.width):
            return
        jpeg = frames.find(result.camera, result.frame_id, result.capture_ts)
        if jpeg is None:
            return  # its frame never came (or came too late): a later frame will do
        if self.encoder.submit(EncodeJob(appearance.row_id, bytes(jpeg), box)):
            samples.asked += 1
            samples.waiting += 1
            samples.last_asked_ts = result.capture_ts

    def collect(self) -> list[Appearance]:
        """Take the encoder's answers; decide the sightings that have all their encodings. The open sightings that
        got a visitor now (to be told on the bus)."""
        decided = []
        for answer in self.encoder.finished():
            samples = self.samples.get(answer.row_id)
            if samples is None:
                continue  # the sighting was named meanwhile
            samples.waiting -= 1
            if answer.encoding is not None:
                samples.encodings.append(answer.encoding)
            if len(samples.encodings) >= MAX_ENCODINGS and not samples.decided and self._decide(samples):
                decided.append(samples.appearance)
        return decided

    def ready_to_close(self, appearance: Appearance, waited_s: float) -> bool:
        """Whether a closed sighting has no encoding under way (or has waited long enough for them)."""
        samples = self.samples.get(appearance.row_id or 0)
        return samples is None or samples.waiting <= 0 or waited_s >= CLOSE_WAIT_S

    def settle(self, appearance: Appearance) -> None:
        """A sighting closes: decide it with the encodings it has, and forget its samples."""
        samples = self.samples.pop(appearance.row_id or 0, None)
        if samples is not None and not samples.decided:
            self._decide(samples)

    def _decide(self, samples: Samples) -> bool:
        """Give an Unknown sighting its visitor (an earlier one, or a new one); False when there is nothing to go on."""
        samples.decided = True
        appearance = samples.appearance
        if appearance.row_id is None or appearance.name != schema.UNKNOWN or not samples.enough():
            return False
        encodings = np.stack(samples.encodings)
        blob = to_bytes(encodings)
        match = self.index.decide(encodings)
        while match.visitor is not None and not visitor_store.join(self.engine, appearance.row_id, match.visitor, blob):
            self.index.forget(match.visitor)  # named or forgotten meanwhile: no stranger to match any more
            match = self.index.decide(encodings)
        visitor = match.visitor
        if visitor is None:
            visitor = visitor_store.create(self.engine, appearance.row_id, blob)
        self.index.add(visitor, encodings)
        appearance.visitor = visitor
        log.info(
            "sighting %d on %s is %s visitor %d (%d encodings, score %s, margin %s)",
            appearance.row_id,
            appearance.camera,
            "new" if match.visitor is None else "returning",
            visitor,
            len(encodings),
            match.score,
            match.margin,
        )
        return True

    def named(self, appearance: Appearance) -> bool:
        """An open sighting is called someone now: it stops gathering encodings, and leaves its visitor unless
        that visitor was named as this very person. Whether its visitor changed."""
        if appearance.row_id is None:
            return False
        self.samples.pop(appearance.row_id, None)
        visitor = appearance.visitor
        if visitor is None:
            return False
        found = visitor_store.get(self.engine, visitor)
        if found is not None and found.name == appearance.name:
            return False
        visitor_store.leave(self.engine, appearance.row_id)
        appearance.visitor = None
        self.reload([visitor])
        return True

    def reload(self, visitors: set[int] | list[int]) -> None:
        """Read these visitors' encodings again (retention deleted some of their sightings, or one left them)."""
        wanted = set(visitors)
        for visitor in wanted:
            self.index.forget(visitor)
        for visitor, blob in visitor_store.unnamed_encodings(self.engine, wanted):
            self.index.add(visitor, from_bytes(blob))

    def names_changed(self) -> None:
        """The known people changed (maybe a visitor was named): named visitors are matched no more. (A visitor
        named or forgotten without a word on the bus is found out when a sighting would join them: join refuses.)"""
        for visitor in visitor_store.named_ids(self.engine):
            self.index.forget(visitor)

    def stop(self) -> None:
        self.encoder.stop()
