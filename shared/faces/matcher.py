"""Naming a face: which known person it is, or an honest Unknown, and how sure we are.

Why not "nearest photo under 0.6": measured on LFW (``bench/accuracy.py``), that
rule names about a third of strangers as someone known, and a lower fixed
distance loses known faces long before strangers stop being named. Some faces
are simply near everybody (plain lighting, a common look): a fixed distance
cannot tell "near this person" from "near everyone". So the decision compares
a face's distance to a person with its distance to a crowd of people who are
certainly not enrolled (the *background*, shipped as encodings only):

1. **All of a person's photos**: a person is the mean of their photos'
   encodings (their centroid). With three photos it separates people better
   than the nearest single photo (one odd photo no longer drags strangers in).
2. **Cohort ratio**: ``ratio = distance to the person's centroid / mean
   distance to the face's 3 nearest background faces``. A known face is much
   nearer its person than the crowd (ratio ~0.55); a stranger who happens to
   be near someone is about as near the crowd (ratio ~0.9). Named only if
   the ratio is at most the person's limit: the ``NAME_RATIO`` setting
   (:data:`shared.config.DEFAULT_NAME_RATIO`) for a person with 3 photos, a
   little more with fewer photos and less with more (per-person calibration,
   :func:`name_limit`), so that every person is about equally likely to be
   given to a stranger.
3. **Margin**: the second nearest person must be at least :data:`MIN_MARGIN`
   times further than the nearest, or the face could be either: Unknown.
4. **Tolerance** (the ``TOLERANCE`` setting) stays an outer bound: a face
   further than it from every photo of the person is never named.
5. **Confidence** is a calibrated probability of the answer shown, fitted on
   the same measurement: of faces shown named at 90%, about 90% were that
   person; of faces shown Unknown at 90%, about 90% were not anyone enrolled.
   It is 50% at the naming threshold, so it is never below 50% for a face
   named or left Unknown by its ratio (see :func:`probability_known`); only a
   face held back by the margin or the tolerance, or a track whose encodings
   do not agree yet, can show Unknown under 50% ("probably someone enrolled,
   but not sure who": a caller may take that as a cue to look again).
6. **Negative examples** ("this is not Ana"): faces an admin said were
   wrongly given to a person. A face whose nearest person is P is not named
   P when it is nearer one of P's negatives than P's centroid
   (:data:`NEGATIVE_RATIO`): it is Unknown, at :data:`VETOED_CONFIDENCE`, and
   does not lean to P (so a track named P loses the name too). Measured on LFW
   (``bench/negatives.py``): each stranger photo the matcher named, made a
   negative of that person alone, stops all 63 of its near-duplicates that
   were named (the next frames of the same visitor) and 5 of the 6 other
   photos of the same strangers; none of the corrected people's own photos
   is lost (39 of 39 still named; 291 of 291 in a run of 61 look-alikes),
   the nearest of them coming at 1.125 times the centroid distance.
   Unknown rather than the next nearest person: the face was nearer P than
   anyone by the margin, and is like someone who is not P, so the evidence
   for anyone else is weaker still (on LFW every face vetoed was a stranger,
   whom a next person would have misnamed).

Calibrating each person from the spread of their own enrolled photos was
measured too and left out: with a few photos the spread is too noisy and it
named fewer known faces at the same stranger rate (``bench/accuracy.py``). A
background face that is probably an enrolled person (within
:data:`PRUNE_DISTANCE` of their photos or centroid) is dropped from that
gallery's crowd, so enrolling someone who happens to be in the background set
still works.

Pure numpy, so the same code serves the workers, the still-image recogniser and the benches.
Matching one face against 10,000 enrolled photos takes well under a few ms:
every person is one centroid, the background is ~100 faces, and per-photo
distances are computed for the chosen person only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from shared.bus.schema import UNKNOWN
from shared.config import DEFAULT_NAME_RATIO

log = logging.getLogger(__name__)

BACKGROUND_FILE = Path(__file__).resolve().parent / "background" / "encodings-v1.npy"
"""Shipped background: float32 (n, 128) dlib encodings of public photos of people nobody here enrols."""
COHORT_SIZE = 3
"""Nearest background faces whose mean distance scales the face's distances (3 measured best of 1..20)."""
PHOTOS_REFERENCE = 3
"""NAME_RATIO applies to a person with this many enrolled photos; see :func:`name_limit`."""
PHOTO_COUNT_SLOPE = 0.12
"""How much a person's limit moves with their number of photos (fitted on LFW enrolling 1 to 5 photos)."""
MIN_MARGIN = 1.1
"""The second nearest person must be this many times further than the nearest (costs no known face on LFW)."""
PRUNE_DISTANCE = 0.45
"""A background face this near an enrolled person (photo or centroid) is taken to be them and not used."""
FALLBACK_COHORT_DISTANCE = 0.65
"""Typical mean distance to the 3 nearest background faces, used when there is no background at all."""
CONFIDENCE_SLOPES = (16.3, 45.3)
"""Steepness of the confidence curve in log(ratio) below and above the limit (named / Unknown side),
each fitted on LFW on the faces of its side (bench/accuracy.py refits them)."""
TRACK_FRAME_RATIO = 0.85
"""Most of a named track's encodings must each be at least this near the person (99% of known faces are, on LFW).

Kept at least 0.05 above the person's own limit (a person with one photo has a limit of ~0.82)."""
NEGATIVE_RATIO = 1.0
"""A face is not its nearest person P when its distance to one of P's negatives is under this times its distance to
P's centroid (bench/negatives.py: 0.9 stopped 4 of 10 look-alikes' other photos, 1.0 8, and 1.2 began to lose
P's own photos)."""
VETOED_CONFIDENCE = 90.0
"""The confidence % of an Unknown that a negative decided (at least): every face vetoed on LFW was a stranger
(bench/negatives.py), but only 13 of them were not near-duplicates of a negative: a conservative round figure."""


@dataclass(frozen=True)
class Match:
    """Who a face is (or Unknown), its distance to them, and a confidence % that this answer is right.

    ``distance`` is the smallest distance to the photos of the person the face is nearest to
    (named or not), None when nobody is enrolled. ``ratio`` is the cohort ratio the decision used.
    ``leaning`` is the nearest person when the face is within the looser per-frame limit a
    track uses (:data:`TRACK_FRAME_RATIO`): a face too far to be named on its own but near
    enough to keep a track that its other frames named (None otherwise; the name if named).
    """

    name: str
    distance: float | None
    confidence: float
    ratio: float | None = None
    leaning: str | None = None


def probability_known(ratio: float, name_ratio: float = DEFAULT_NAME_RATIO) -> float:
    """Probability (0..1) that a face with this cohort ratio is the person it is nearest to.

    ``name_ratio`` is that person's limit (:func:`name_limit`).
    A logistic curve in log(ratio), 50% at the naming threshold (so the answer
    shown, a name or Unknown, is always the more likely one and its confidence
    is at least 50%). Its two halves have their own slopes, each fitted on LFW
    on the faces of its side, so that of the faces *named* at 90% about 90%
    were right, and of the faces left *Unknown* at 90% about 90% were strangers
    (one slope for both overstated named faces: the Unknown side is most faces).
    Measured where 87% of faces are strangers; where most faces are enrolled
    people, a name is right more often than this says and an Unknown less
    often. The margin is deliberately left out: it grows with fewer people
    enrolled, for strangers too, so it would not carry over.
    """
    gap = math.log(max(name_ratio, 1e-6)) - math.log(max(ratio, 1e-6))
    logit = CONFIDENCE_SLOPES[0 if gap >= 0 else 1] * gap
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def name_limit(name_ratio: float, photos: int | np.ndarray) -> float | np.ndarray:
    """The largest cohort ratio still named for a person with this many enrolled photos.

    Per-person calibration from the photos: a centroid of few photos is a
    noisier estimate of the person, so their own faces *and* strangers lie
    further from it. ``limit**2 = name_ratio**2 + PHOTO_COUNT_SLOPE * (1/photos - 1/3)``
    keeps each person's chance of being given to a stranger about the same:
    measured on LFW (20 people, same strangers), the limit naming 0.5% of
    strangers was 0.815 with 1 photo, 0.77-0.79 with 2, 0.75-0.77 with 3 and
    0.745-0.755 with 5; at one fixed limit, people with 1 photo were named
    80% of the time against 92% with this one. The spread of each person's own
    photos was tried instead and did worse (three photos estimate it badly).
    """
    count = np.maximum(np.asarray(photos, dtype=np.float64), 1.0)
    squared = name_ratio**2 + PHOTO_COUNT_SLOPE * (1.0 / count - 1.0 / PHOTOS_REFERENCE)
    return np.sqrt(np.maximum(squared, 0.01))


def track_frame_limit(limit: float) -> float:
    """The cohort ratio under which one frame of a track supports the person whose limit is ``limit``."""
    return max(TRACK_FRAME_RATIO, limit + 0.05)


@lru_cache(maxsize=4)
def load_background(path: Path | None = None) -> np.ndarray:
    """Background encodings from ``path`` (default: the shipped file), read once per process.

    A missing or malformed file gives an empty background (with a warning): the
    matcher then falls back to a fixed cohort distance rather than stopping the worker.
    """
    source = Path(path) if path is not None else BACKGROUND_FILE
    try:
        background = np.load(source, allow_pickle=False)
        if background.ndim != 2 or background.shape[1] != 128:
            raise ValueError(f"shape {background.shape}, expected (n, 128)")
    except (OSError, ValueError) as error:
        log.warning("background encodings %s unusable (%s): matching without them is less accurate", source, error)
        return np.zeros((0, 128))
    return background.astype(np.float64)


ROW_BY_ROW_FACES = 16
"""Up to this many faces, distances are computed one face at a time (see :func:`pairwise_distances`)."""


def pairwise_distances(faces: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Euclidean distances between two sets of encodings: shape (len(faces), len(others)).

    For the few faces of a frame, one matrix-vector product per face rather
    than one matrix product: a matrix product of a few rows wakes OpenBLAS's
    thread pool, which on a busy machine (the workers keep every core busy)
    costs up to tens of ms, while a matrix-vector product takes ~0.2 ms per face
    against 10,000 encodings. Many faces at once (building a gallery, benches)
    are worth one matrix product.
    """
    others_squared = np.einsum("ij,ij->i", others, others)
    if len(faces) > ROW_BY_ROW_FACES:
        squared = np.einsum("ij,ij->i", faces, faces)[:, None] + others_squared[None, :] - 2.0 * (faces @ others.T)
        return np.sqrt(np.maximum(squared, 0.0))
    result = np.empty((len(faces), len(others)))
    for row, face in enumerate(faces):
        result[row] = others_squared + face @ face - 2.0 * (others @ face)
    return np.sqrt(np.maximum(result, 0.0, out=result), out=result)


def cohort_distance(distances_to_background: np.ndarray, size: int = COHORT_SIZE) -> np.ndarray:
    """Each face's mean distance to its ``size`` nearest background faces (the crowd it is judged against)."""
    if distances_to_background.shape[1] == 0:
        return np.full(len(distances_to_background), FALLBACK_COHORT_DISTANCE)
    size = min(size, distances_to_background.shape[1])
    nearest = np.partition(distances_to_background, size - 1, axis=1)[:, :size]
    return nearest.mean(axis=1)


def best_two(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the index of the smallest value, the smallest, and the second smallest (inf if none)."""
    best = np.argmin(values, axis=1)
    rows = np.arange(len(values))
    smallest = values[rows, best]
    if values.shape[1] < 2:
        return best, smallest, np.full(len(values), np.inf)
    second = np.partition(values, 1, axis=1)[:, 1]
    return best, smallest, second


class Gallery:
    """The known faces: one encoding per enrolled photo with its person's name, and the background crowd.

    ``background``: None for the shipped file, a path to another ``.npy`` file (the
    ``BACKGROUND_FILE`` setting), or an array. It is read lazily, on the first match.
    ``negatives``: per person, encodings of faces that are *not* them (rule 6 of the module
    docstring); those of a name nobody is enrolled under are ignored.
    """

    def __init__(
        self,
        names: list[str],
        encodings: np.ndarray,
        background: np.ndarray | Path | str | None = None,
        name_ratio: float = DEFAULT_NAME_RATIO,
        negatives: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if len(names) != len(encodings):
            raise ValueError("one name per encoding")
        self.names = np.asarray(names, dtype=object)
        self.encodings = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
        self.people = sorted(set(names))
        self.name_ratio = name_ratio
        position = {name: index for index, name in enumerate(self.people)}
        self._person_index = np.asarray([position[name] for name in names], dtype=np.int64)
        order = np.argsort(self._person_index, kind="stable")
        self._sorted = self.encodings[order]
        self._sorted_person = self._person_index[order]
        self._starts = np.searchsorted(self._sorted_person, np.arange(len(self.people)))
        counts = np.bincount(self._person_index, minlength=len(self.people)).astype(np.float64)
        self.photo_counts = counts.astype(np.int64)
        self.centroids = (
            np.add.reduceat(self._sorted, self._starts, axis=0) / counts[:, None]
            if len(self.people)
            else np.zeros((0, 128))
        )
        self._background_source = background
        self._cohort: np.ndarray | None = None
        self.negatives: dict[int, np.ndarray] = {
            position[name]: np.asarray(faces, dtype=np.float64).reshape(-1, 128)
            for name, faces in (negatives or {}).items()
            if name in position and len(faces)
        }
        """Per person (index into :attr:`people`), the encodings of faces that are not them."""

    def __len__(self) -> int:
        return len(self.encodings)

    def prepare(self) -> None:
        """Read and prune the background set now (in the loader), not on the first live frame."""
        _ = self.background

    @property
    def background(self) -> np.ndarray:
        """The background faces this gallery judges against, minus any that look like an enrolled person."""
        if self._cohort is None:
            source = self._background_source
            crowd = (
                np.asarray(source, dtype=np.float64).reshape(-1, 128)
                if isinstance(source, np.ndarray)
                else load_background(None if source is None else Path(source))
            )
            self._cohort = self._prune(crowd)
        return self._cohort

    def _prune(self, crowd: np.ndarray) -> np.ndarray:
        """Drop background faces within PRUNE_DISTANCE of an enrolled photo or centroid: they are that person."""
        if len(crowd) == 0 or len(self.encodings) == 0:
            return crowd
        near_photo = pairwise_distances(crowd, self.encodings).min(axis=1)
        near_centroid = pairwise_distances(crowd, self.centroids).min(axis=1)
        keep = np.minimum(near_photo, near_centroid) >= PRUNE_DISTANCE
        if not keep.all():
            log.info("%d background faces look like enrolled people and are not used", int((~keep).sum()))
        return crowd[keep]

    def ratios(self, encodings: np.ndarray) -> np.ndarray:
        """Cohort ratio of each face to each person: centroid distance / distance to the crowd. (faces, people)."""
        faces = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
        if len(self.people) == 0 or len(faces) == 0:
            return np.full((len(faces), len(self.people)), np.inf)
        crowd = cohort_distance(pairwise_distances(faces, self.background))
        return pairwise_distances(faces, self.centroids) / np.maximum(crowd, 1e-6)[:, None]

    def photos_of(self, person: int) -> np.ndarray:
        """The encodings of one person's photos (index into :attr:`people`): shape (photos, 128)."""
        start = self._starts[person]
        end = self._starts[person + 1] if person + 1 < len(self._starts) else len(self._sorted)
        return self._sorted[start:end]

    def photo_distance(self, face: np.ndarray, person: int) -> float:
        """Smallest distance from one face to one person's photos."""
        return float(pairwise_distances(face[None, :], self.photos_of(person)).min())

    def vetoed(self, face: np.ndarray, person: int) -> bool:
        """Whether one face is nearer one of the person's negatives than their centroid: then it is not them."""
        negatives = self.negatives.get(person)
        if negatives is None:
            return False
        nearest_negative = float(pairwise_distances(face[None, :], negatives).min())
        return nearest_negative < NEGATIVE_RATIO * float(np.linalg.norm(face - self.centroids[person]))

    def decide(
        self, ratio: float, margin: float, distance: float, person: int, tolerance: float, vetoed: bool = False
    ) -> Match:
        """Name or Unknown from one set of evidence, with the calibrated confidence of the answer shown.

        ``vetoed``: the face is near one of the person's negatives (:meth:`vetoed`): Unknown, leaning to nobody.
        """
        limit = float(name_limit(self.name_ratio, int(self.photo_counts[person])))
        sure = probability_known(ratio, limit)
        plausible = margin >= MIN_MARGIN and distance <= tolerance
        named = ratio <= limit and plausible and not vetoed
        name = self.people[person] if named else UNKNOWN
        confidence = 100.0 * (sure if named else 1.0 - sure)
        if vetoed:
            confidence = max(confidence, VETOED_CONFIDENCE)
        leaning = self.people[person] if named or (plausible and ratio <= track_frame_limit(limit)) else None
        return Match(name, round(distance, 4), round(confidence, 1), round(ratio, 4), None if vetoed else leaning)

    def match(self, encodings: np.ndarray, tolerance: float) -> list[Match]:
        """Name each face, or call it Unknown (see the module docstring for the rule)."""
        faces = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
        if len(self.people) == 0:
            return [Match(UNKNOWN, None, 100.0) for _ in faces]
        if len(faces) == 0:
            return []
        best, smallest, second = best_two(self.ratios(faces))
        return [
            self.decide(
                float(smallest[i]),
                float(second[i] / smallest[i]) if smallest[i] > 0 else math.inf,
                self.photo_distance(faces[i], int(best[i])),
                int(best[i]),
                tolerance,
                self.vetoed(faces[i], int(best[i])),
            )
            for i in range(len(faces))
        ]
