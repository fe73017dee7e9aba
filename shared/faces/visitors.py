"""Returning strangers: which earlier visitor (an unenrolled face seen before) a new Unknown sighting is, if any.

The rule has the same shape as naming (shared/faces/matcher.py), made
stricter, because nobody checked who a visitor is: a wrong merge tells a user
that two strangers are one person. Measured on LFW by ``bench/visitors.py``.

1. **Cohort-scaled distance.** The distance between two encodings is divided
   by the geometric mean of each one's mean distance to its 3 nearest faces
   in the background crowd (the naming rule's crowd): a face that is near
   everybody needs to be nearer still to count as the same.
2. **Nearest encoding of each visitor.** A visitor keeps the encodings of
   their sightings (a few per sighting, the newest :data:`MAX_KEPT_PER_VISITOR`);
   a sighting's encoding is compared with each visitor's nearest one, since the
   same person seen from the side or in another light is nearest their own
   similar view, not their average.
3. **Agreement of the sighting's encodings.** A sighting brings up to
   :data:`MAX_ENCODINGS` encodings (frames a second or more apart), and one with
   fewer than :data:`MIN_ENCODINGS` gets no visitor id at all: a single frame
   gave two different men on the hamilton clip one id (``bench/visitors.py``).
   A visitor's score is the median of the encodings' ratios, so most of them
   must agree.
4. **Stricter than naming, and no coin-flips.** The best visitor is taken only
   at a score of at most ``VISITOR_RATIO`` (:data:`shared.config.DEFAULT_VISITOR_RATIO`)
   and when the second best visitor scores at least :data:`MIN_MARGIN` times worse;
   otherwise the sighting is a new visitor.

Pure numpy, so the sightings service and the bench run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.config import DEFAULT_VISITOR_RATIO
from shared.faces.matcher import cohort_distance, pairwise_distances

ENCODING_SIZE = 128
MAX_ENCODINGS = 3
"""Encodings made per sighting: enough for agreement, few enough to cost nothing (one dlib encoding each)."""
MIN_ENCODINGS = 2
"""A sighting with fewer (a face seen for about a second) is given no visitor: one frame is too little to vouch for."""
MAX_KEPT_PER_VISITOR = 24
"""A visitor's newest encodings compared with; older ones add little and would grow the work without bound."""
MIN_MARGIN = 1.1
"""The second best visitor must score this many times worse than the best (as naming asks between people)."""


@dataclass(frozen=True)
class VisitorMatch:
    """The visitor a sighting is (None: nobody seen before), with the score and margin the decision used."""

    visitor: int | None
    score: float | None = None
    margin: float | None = None


def to_bytes(encodings: np.ndarray) -> bytes:
    """Encodings as stored in the database: float32, row after row (512 bytes each)."""
    return np.asarray(encodings, dtype="<f4").reshape(-1, ENCODING_SIZE).tobytes()


def from_bytes(blob: bytes | memoryview | None) -> np.ndarray:
    """Encodings stored by :func:`to_bytes`; an empty (0, 128) array for none or a blob of the wrong length."""
    if not blob or len(blob) % (4 * ENCODING_SIZE):
        return np.zeros((0, ENCODING_SIZE))
    return np.frombuffer(bytes(blob), dtype="<f4").reshape(-1, ENCODING_SIZE).astype(np.float64)


class VisitorIndex:
    """The encodings of the visitors a new sighting may be, and the rule that picks one.

    Not thread-safe: one loop (the sightings service's) adds, forgets and decides.
    """

    def __init__(
        self,
        background: np.ndarray,
        ratio: float = DEFAULT_VISITOR_RATIO,
        margin: float = MIN_MARGIN,
        kept_per_visitor: int = MAX_KEPT_PER_VISITOR,
    ) -> None:
        self.background = np.asarray(background, dtype=np.float64).reshape(-1, ENCODING_SIZE)
        self.ratio = ratio
        self.margin = margin
        self.kept_per_visitor = kept_per_visitor
        self._encodings: dict[int, np.ndarray] = {}
        self._cohorts: dict[int, np.ndarray] = {}
        self._stacked: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        """How many visitors there are to match."""
        return len(self._encodings)

    def __contains__(self, visitor: int) -> bool:
        return visitor in self._encodings

    @property
    def encodings(self) -> int:
        """How many encodings are kept, all visitors together."""
        return sum(len(kept) for kept in self._encodings.values())

    def cohort(self, encodings: np.ndarray) -> np.ndarray:
        """Each encoding's mean distance to its nearest background faces (the scale its distances are judged on)."""
        faces = np.asarray(encodings, dtype=np.float64).reshape(-1, ENCODING_SIZE)
        return cohort_distance(pairwise_distances(faces, self.background))

    def add(self, visitor: int, encodings: np.ndarray) -> None:
        """Keep more encodings of a visitor (a new one, or one seen again), the newest last."""
        faces = np.asarray(encodings, dtype=np.float64).reshape(-1, ENCODING_SIZE)
        if len(faces) == 0:
            return
        kept = np.concatenate([self._encodings.get(visitor, np.zeros((0, ENCODING_SIZE))), faces])
        cohorts = np.concatenate([self._cohorts.get(visitor, np.zeros(0)), self.cohort(faces)])
        self._encodings[visitor] = kept[-self.kept_per_visitor :]
        self._cohorts[visitor] = cohorts[-self.kept_per_visitor :]
        self._stacked = None

    def forget(self, visitor: int) -> None:
        """Stop matching a visitor (named, or gone with retention)."""
        if self._encodings.pop(visitor, None) is not None:
            self._cohorts.pop(visitor, None)
            self._stacked = None

    def _stack(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every kept encoding in one matrix, grouped by visitor: (visitor ids, group starts, encodings, cohorts)."""
        if self._stacked is None:
            visitors = np.fromiter(self._encodings, dtype=np.int64, count=len(self._encodings))
            sizes = np.fromiter((len(kept) for kept in self._encodings.values()), dtype=np.int64, count=len(visitors))
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            self._stacked = (
                visitors,
                starts,
                np.concatenate(list(self._encodings.values())),
                np.concatenate(list(self._cohorts.values())),
            )
        return self._stacked

    def scores(self, encodings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each visitor's score for a sighting's encodings (the median over them of the cohort-scaled distance to
        the visitor's nearest encoding), with the visitors' ids in the same order."""
        faces = np.asarray(encodings, dtype=np.float64).reshape(-1, ENCODING_SIZE)
        if not self._encodings or len(faces) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        visitors, starts, kept, kept_cohorts = self._stack()
        scale = np.sqrt(np.maximum(self.cohort(faces)[:, None] * kept_cohorts[None, :], 1e-12))
        ratios = pairwise_distances(faces, kept) / scale
        nearest = np.minimum.reduceat(ratios, starts, axis=1)
        return visitors, np.median(nearest, axis=0)

    def decide(self, encodings: np.ndarray) -> VisitorMatch:
        """The visitor these encodings of one sighting are, or VisitorMatch(None) for a new visitor."""
        visitors, scores = self.scores(encodings)
        if len(scores) == 0:
            return VisitorMatch(None)
        best = int(np.argmin(scores))
        score = float(scores[best])
        second = float(np.partition(scores, 1)[1]) if len(scores) > 1 else float("inf")
        margin = second / score if score > 0 else float("inf")
        if score <= self.ratio and margin >= self.margin:
            return VisitorMatch(int(visitors[best]), round(score, 4), round(margin, 4))
        return VisitorMatch(None, round(score, 4), round(margin, 4))
