"""Following each face from frame to frame, so it is encoded once in a while, not on every frame.

A face's identity does not change between frames, and encoding it costs as
much as finding it. Each camera's tracks live here, in the dispatcher, which
sees every result of every worker: a worker is told where the known faces
should be and which of them need a fresh encoding; it encodes only those and
new faces. A track's name is decided by a vote over its recent encodings, so
one doubtful frame neither names a stranger nor makes a name flicker.

Pure logic, no sockets, so it is tested on its own.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from shared.boxes import NormBox, associate, moved
from shared.bus import schema
from shared.bus.schema import UNKNOWN, Detection, TrackHint

VOTES_KEPT = 5
"""Encodings of a track that count in its vote: about the last five seconds at the default re-encode pace."""
VOTES_TO_NAME = 2
"""A track is named as a known person only when at least this many of its encodings agree."""
RECENT_VOTES = 3
"""VOTES_TO_NAME agreeing among this many newest encodings name a track, whatever older ones said."""
SURE_CONFIDENCE = 75.0
"""Below this, a track is re-encoded on every analysed frame until it is sure."""
UNDECIDED_CONFIDENCE = 50.0
"""What a track whose encodings do not agree yet shows: as likely known as not."""
UNKNOWN_RECHECKS = 4
"""A track settled as Unknown is encoded again this many times per ``reencode_s``: faces turn towards the camera."""
MOTION_SMOOTHING = 0.3
"""Weight of the newest speed in the running estimate: HOG boxes jitter by a few pixels from frame to frame."""
MAX_MOTION_DT_S = 1.0


@dataclass(frozen=True)
class Vote:
    """One encoding's verdict on a track."""

    name: str
    distance: float | None
    confidence: float
    leaning: str | None = None
    """The person the encoding is near enough to keep a track named as (see shared.faces.matcher.Match.leaning)."""


@dataclass
class Track:
    """One face followed over time on one camera."""

    track_id: int
    box: NormBox
    seen_ts: float
    encoded_ts: float = float("-inf")
    motion: tuple[float, float] = (0.0, 0.0)
    moves_seen: int = 0
    votes: deque[Vote] = field(default_factory=lambda: deque(maxlen=VOTES_KEPT))
    kept_name: str | None = None
    """The known name the vote gave this track, kept while most encodings still lean to it."""

    def verdict(self) -> Vote:
        """The track's name: strict to give a name, lenient to keep it.

        A name is given by :meth:`strict_verdict`. Once given, it is kept while
        most of the kept encodings still *lean* to the person (near enough by
        the looser per-frame limit of a track, shared.faces.matcher.TRACK_FRAME_RATIO): a
        face that tilts away for half a second keeps its name instead of
        flickering to Unknown, and a different person's face, which does not
        lean, loses it within a few encodings.
        """
        strict = self.strict_verdict()
        if strict.name != UNKNOWN or self.kept_name is None:
            return strict
        leaning = [vote for vote in self.votes if vote.leaning == self.kept_name]
        if len(leaning) * 2 <= len(self.votes):
            return strict
        named = [vote for vote in leaning if vote.name == self.kept_name]
        distances = [vote.distance for vote in leaning if vote.distance is not None]
        return Vote(
            self.kept_name,
            round(sum(distances) / len(distances), 4) if distances else None,
            round(
                max(UNDECIDED_CONFIDENCE, sum(v.confidence for v in named) / len(named))
                if named
                else UNDECIDED_CONFIDENCE,
                1,
            ),
            self.kept_name,
        )

    def strict_verdict(self) -> Vote:
        """The name by vote alone: a known name needs at least VOTES_TO_NAME agreeing encodings.

        Either among the newest :data:`RECENT_VOTES` (a face that turned towards
        the camera is named as soon as its latest encodings agree, however many
        profile views came before) or as a majority of all the votes kept.
        """
        if not self.votes:
            return Vote(UNKNOWN, None, 0.0)
        recent = list(self.votes)[-RECENT_VOTES:]
        winner, count = Counter(vote.name for vote in recent).most_common(1)[0]
        if winner == UNKNOWN or count < VOTES_TO_NAME:
            winner, count = Counter(vote.name for vote in self.votes).most_common(1)[0]
            if winner != UNKNOWN and (count < VOTES_TO_NAME or count * 2 <= len(self.votes)):
                return Vote(UNKNOWN, None, UNDECIDED_CONFIDENCE)  # not yet agreed: honest, and re-encoded next frame
        agreeing = [vote for vote in self.votes if vote.name == winner]
        distances = [vote.distance for vote in agreeing if vote.distance is not None]
        return Vote(
            winner,
            round(sum(distances) / len(distances), 4) if distances else None,
            round(sum(vote.confidence for vote in agreeing) / len(agreeing), 1),
        )

    def needs_encoding(self, capture_ts: float, reencode_s: float) -> bool:
        """Encode again when the last encoding is old, or while the vote is not yet settled.

        A name is settled by two agreeing, confident encodings. "Unknown" needs
        a full set of votes: a known face's first frames are often turned away
        (a profile, motion blur), and a track settled as Unknown after two of
        them would be checked again only once per ``reencode_s``, too slowly to
        ever win the vote before the face leaves. For the same reason a settled
        Unknown is checked again :data:`UNKNOWN_RECHECKS` times as often as a
        name (a person walking in turns towards the camera within a second), and
        an encoding that disagrees with the verdict unsettles it: the track is
        encoded on every frame until the vote agrees again.
        """
        verdict = self.verdict()
        enough_votes = len(self.votes) >= (VOTES_KEPT if verdict.name == UNKNOWN else VOTES_TO_NAME)
        newest_agrees = bool(self.votes) and self.votes[-1].name == verdict.name  # a lean alone is not sure
        settled = enough_votes and newest_agrees and verdict.confidence >= SURE_CONFIDENCE
        due_after_s = reencode_s / UNKNOWN_RECHECKS if verdict.name == UNKNOWN else reencode_s
        return not settled or capture_ts - self.encoded_ts >= due_after_s

    def predicted(self, capture_ts: float) -> NormBox:
        """Where the box should be at that capture time, moving as it has been."""
        dt = _within(capture_ts - self.seen_ts, -MAX_MOTION_DT_S, MAX_MOTION_DT_S)
        x, y, w, h = moved(self.box, self.motion, dt)
        return (_within(x, schema.MIN_COORD, schema.MAX_COORD), _within(y, schema.MIN_COORD, schema.MAX_COORD), w, h)

    def observe(self, box: NormBox, capture_ts: float) -> None:
        """Move the track to a newer detection and update its motion; older detections do not move it."""
        dt = capture_ts - self.seen_ts
        if dt <= 0:
            return
        if dt <= MAX_MOTION_DT_S:
            speed = (  # two frames a microsecond apart must not make a box fly off: the bus refuses faster ones
                _within((box[0] - self.box[0]) / dt, -schema.MAX_SPEED, schema.MAX_SPEED),
                _within((box[1] - self.box[1]) / dt, -schema.MAX_SPEED, schema.MAX_SPEED),
            )
            weight = MOTION_SMOOTHING if self.moves_seen else 1.0  # the first measurement is the best guess yet
            self.motion = tuple(  # type: ignore[assignment]
                weight * new + (1 - weight) * old for new, old in zip(speed, self.motion)
            )
            self.moves_seen += 1
        self.box = box
        self.seen_ts = capture_ts


def _within(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class CameraTracker:
    """The tracks of one camera."""

    def __init__(self, reencode_s: float, max_age_s: float, min_iou: float) -> None:
        self.reencode_s = reencode_s
        self.max_age_s = max_age_s
        self.min_iou = min_iou
        self.tracks: dict[int, Track] = {}
        self._next_id = 1

    def forget_names(self) -> None:
        """The known people changed: every track's name is decided afresh from new encodings."""
        for track in self.tracks.values():
            track.votes.clear()
            track.kept_name = None
            track.encoded_ts = float("-inf")

    def _expire(self, capture_ts: float) -> None:
        for track_id in [t.track_id for t in self.tracks.values() if capture_ts - t.seen_ts > self.max_age_s]:
            del self.tracks[track_id]

    def hints(self, capture_ts: float) -> list[TrackHint]:
        """What a worker analysing a frame captured at ``capture_ts`` should know about the faces seen so far."""
        self._expire(capture_ts)
        return [
            TrackHint(
                track_id=track.track_id,
                box=track.predicted(capture_ts),
                encode=track.needs_encoding(capture_ts, self.reencode_s),
            )
            for track in self.tracks.values()
        ]

    def update(self, detections: list[Detection], capture_ts: float) -> list[schema.Face]:
        """Fold one analysed frame into the tracks; the frame's faces, named by their tracks."""
        claimed: dict[int, int] = {}  # detection index -> track id
        for index, detection in enumerate(detections):
            if detection.track_id in self.tracks and detection.track_id not in claimed.values():
                claimed[index] = detection.track_id
        free_tracks = [t for t in self.tracks.values() if t.track_id not in claimed.values()]
        loose = [i for i in range(len(detections)) if i not in claimed]
        for i, j in associate(
            [detections[i].box for i in loose], [t.predicted(capture_ts) for t in free_tracks], self.min_iou
        ):
            claimed[loose[i]] = free_tracks[j].track_id
        faces = []
        for index, detection in enumerate(detections):
            track = self.tracks.get(claimed.get(index, -1))
            if track is None:
                track = self.tracks[self._next_id] = Track(self._next_id, detection.box, capture_ts)
                self._next_id += 1
            track.observe(detection.box, capture_ts)
            if detection.name is not None:
                track.votes.append(Vote(detection.name, detection.distance, detection.confidence, detection.leaning))
                track.encoded_ts = max(track.encoded_ts, capture_ts)
            verdict = track.verdict()
            track.kept_name = None if verdict.name == UNKNOWN else verdict.name
            faces.append(
                schema.Face(
                    box=detection.box,
                    name=verdict.name,
                    distance=verdict.distance,
                    confidence=verdict.confidence,
                    track_id=track.track_id,
                    motion=track.motion,
                )
            )
        self._expire(capture_ts)
        return faces
