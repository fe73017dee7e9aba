"""Naming a face: nearest known person by encoding distance, and how sure we are.

Pure numpy so the same code serves the workers and any other caller. Every
photo of a person counts: a person's distance is the smallest over their
photos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

UNKNOWN = "Unknown"
CONFIDENCE_SLOPE = 0.05
"""Distance over which confidence moves from 73% to 50% around the tolerance."""


@dataclass(frozen=True)
class Match:
    """Who a face is (or Unknown), its distance to them, and a confidence %."""

    name: str
    distance: float | None
    confidence: float


def confidence_known(distance: float, tolerance: float) -> float:
    """Confidence %, from 0 to 100, that a face at this distance is the person it is nearest to.

    A logistic curve centred on the tolerance: 50% at the tolerance, about 98%
    at 0.2 closer, about 2% at 0.2 further.
    """
    return 100.0 / (1.0 + math.exp((distance - tolerance) / CONFIDENCE_SLOPE))


class Gallery:
    """The known faces: one row of encoding per enrolled photo, with its person's name."""

    def __init__(self, names: list[str], encodings: np.ndarray) -> None:
        if len(names) != len(encodings):
            raise ValueError("one name per encoding")
        self.names = np.asarray(names, dtype=object)
        self.encodings = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
        self.people = sorted(set(names))
        self._person_index = np.asarray([self.people.index(name) for name in names], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.encodings)

    def distances_by_person(self, encodings: np.ndarray) -> np.ndarray:
        """For each face, the smallest distance to each known person: shape (faces, people)."""
        faces = np.asarray(encodings, dtype=np.float64).reshape(-1, 128)
        if len(self.encodings) == 0 or len(faces) == 0:
            return np.full((len(faces), len(self.people)), np.inf)
        squared = (
            np.sum(faces**2, axis=1)[:, None]
            + np.sum(self.encodings**2, axis=1)[None, :]
            - 2.0 * faces @ self.encodings.T
        )
        per_photo = np.sqrt(np.maximum(squared, 0.0))
        per_person = np.full((len(faces), len(self.people)), np.inf)
        np.minimum.at(per_person.T, self._person_index, per_photo.T)
        return per_person

    def match(self, encodings: np.ndarray, tolerance: float) -> list[Match]:
        """Name each face, or call it Unknown when no one is within the tolerance."""
        per_person = self.distances_by_person(encodings)
        matches = []
        for row in per_person:
            if len(row) == 0:
                matches.append(Match(UNKNOWN, None, 100.0))
                continue
            best = int(np.argmin(row))
            distance = float(row[best])
            sure = confidence_known(distance, tolerance)
            if distance <= tolerance:
                matches.append(Match(self.people[best], distance, round(sure, 1)))
            else:
                matches.append(Match(UNKNOWN, distance, round(100.0 - sure, 1)))
        return matches
