"""Naming a face: nearest person over all their photos, Unknown past the tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from services.infer.matcher import UNKNOWN, Gallery, confidence_known


def _unit(index: int, scale: float = 1.0) -> np.ndarray:
    vector = np.zeros(128)
    vector[index] = scale
    return vector


def test_the_nearest_person_is_named_using_their_closest_photo() -> None:
    gallery = Gallery(["ada", "ada", "bob"], np.stack([_unit(0), _unit(1), _unit(2)]))
    face = _unit(1) + _unit(3, 0.3)  # 0.3 from ada's second photo, ~1.04 from bob
    [match] = gallery.match(face[None, :], tolerance=0.6)
    assert match.name == "ada"
    assert match.distance == pytest.approx(0.3)
    assert match.confidence > 95


def test_a_face_beyond_the_tolerance_is_unknown() -> None:
    gallery = Gallery(["ada"], _unit(0)[None, :])
    [match] = gallery.match(_unit(0) + _unit(5, 0.8), tolerance=0.6)
    assert match.name == UNKNOWN and match.distance == pytest.approx(0.8) and match.confidence > 95


def test_an_empty_gallery_calls_everyone_unknown() -> None:
    assert [m.name for m in Gallery([], np.zeros((0, 128))).match(np.stack([_unit(0), _unit(1)]), 0.6)] == [UNKNOWN] * 2


def test_distances_match_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    known = rng.normal(size=(30, 128))
    names = [f"p{i % 7}" for i in range(30)]
    faces = rng.normal(size=(5, 128))
    per_person = Gallery(names, known).distances_by_person(faces)
    for f, face in enumerate(faces):
        for p, person in enumerate(sorted(set(names))):
            expected = min(np.linalg.norm(face - known[i]) for i in range(30) if names[i] == person)
            assert per_person[f, p] == pytest.approx(expected)


def test_confidence_is_half_at_the_tolerance_and_falls_with_distance() -> None:
    assert confidence_known(0.6, 0.6) == pytest.approx(50.0)
    assert confidence_known(0.4, 0.6) > 95 > 5 > confidence_known(0.8, 0.6)
