"""Rules the benches compare the product's matcher with; no running service uses them.

- :func:`match_track`: naming a whole video track from several encodings at
  once (the median cohort ratio). The live pipeline names tracks by a vote over
  single-face matches instead (services/broker/tracker.py); this is the
  reference bench/accuracy.py measures that against.
- :func:`confidence_known`: the old distance-only confidence, for the table
  that shows why it was replaced.
- :func:`distances_by_person`: each face's nearest photo of every person.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from shared.bus.schema import UNKNOWN
from shared.faces.matcher import (
    Gallery,
    Match,
    best_two,
    name_limit,
    pairwise_distances,
    probability_known,
    track_frame_limit,
)

MIN_TRACK_ENCODINGS = 2
"""A video track is named only from at least this many encodings of its face."""


def confidence_known(distance: float, tolerance: float) -> float:
    """The old distance-only confidence (50% at the tolerance)."""
    return 100.0 / (1.0 + math.exp((distance - tolerance) / 0.05))


def distances_by_person(gallery: Gallery, encodings: np.ndarray) -> np.ndarray:
    """For each face, the smallest distance to each known person's photos: shape (faces, people)."""
    faces = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
    if len(gallery) == 0 or len(faces) == 0:
        return np.full((len(faces), len(gallery.people)), np.inf)
    return np.stack(
        [pairwise_distances(faces, gallery.photos_of(person)).min(axis=1) for person in range(len(gallery.people))],
        axis=1,
    )


def match_track(
    gallery: Gallery, encodings: np.ndarray, tolerance: float, min_encodings: int = MIN_TRACK_ENCODINGS
) -> Match:
    """Name a video track from several encodings of the same face (k, 128).

    Decided on the median of the per-encoding cohort ratios (one lucky frame
    cannot name a stranger, one blurred frame cannot lose a known face), and
    named only when the track has at least ``min_encodings`` encodings and
    more than half of them are each within ``matcher.TRACK_FRAME_RATIO`` of the
    person (the encodings agree). The confidence is the single-face
    calibration applied to the median ratio: conservative for long tracks.
    """
    faces = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
    if len(gallery.people) == 0 or len(faces) == 0:
        return Match(UNKNOWN, None, 100.0 if len(gallery.people) == 0 else 0.0)
    ratios = gallery.ratios(faces)
    best, smallest, second = best_two(np.median(np.log(np.maximum(ratios, 1e-6)), axis=0)[None, :])
    person = int(best[0])
    limit = float(name_limit(gallery.name_ratio, int(gallery.photo_counts[person])))
    support = int(np.sum(ratios[:, person] <= track_frame_limit(limit)))
    agreed = len(faces) >= min_encodings and support * 2 > len(faces)
    distance = float(np.mean([gallery.photo_distance(face, person) for face in faces]))
    ratio = math.exp(smallest[0])
    match = gallery.decide(
        ratio, math.exp(second[0] - smallest[0]) if np.isfinite(second[0]) else math.inf, distance, person, tolerance
    )
    if agreed or match.name == UNKNOWN:
        return match
    return replace(match, name=UNKNOWN, confidence=round(100.0 * (1.0 - probability_known(ratio, limit)), 1))
