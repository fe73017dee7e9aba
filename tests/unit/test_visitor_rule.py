"""The visitor rule (shared/faces/visitors.py) on made-up encodings whose geometry is known, then on real faces:
who is taken for a visitor seen before, who is not, and why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.faces.visitors import MAX_KEPT_PER_VISITOR, VisitorIndex, from_bytes, to_bytes

SPREAD = 0.06
"""Per dimension: made-up people about 0.96 apart, like dlib's different people (~0.9)."""
SAME = 0.015
"""Per dimension: one person's faces about 0.24 apart, like dlib's same person on good photos (~0.35)."""


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(5)


def person(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, SPREAD, 128)


def faces_of(rng: np.random.Generator, centre: np.ndarray, count: int = 1) -> np.ndarray:
    return centre + rng.normal(0.0, SAME, (count, 128))


def test_the_same_face_is_the_same_visitor_and_another_is_new(rng: np.random.Generator) -> None:
    index = VisitorIndex(np.stack([person(rng) for _ in range(40)]))
    ada, bob = person(rng), person(rng)
    assert index.decide(faces_of(rng, ada, 3)).visitor is None, "nobody was seen before"
    index.add(7, faces_of(rng, ada, 3))
    again = index.decide(faces_of(rng, ada, 3))
    assert again.visitor == 7 and again.score is not None and again.score < 0.5
    stranger = index.decide(faces_of(rng, bob, 3))
    assert stranger.visitor is None and stranger.score is not None and stranger.score > 0.8
    index.add(8, faces_of(rng, bob, 2))
    assert index.decide(faces_of(rng, bob)).visitor == 8
    assert len(index) == 2 and index.encodings == 5


def test_most_of_a_sightings_faces_must_agree(rng: np.random.Generator) -> None:
    index = VisitorIndex(np.stack([person(rng) for _ in range(40)]))
    ada = person(rng)
    index.add(1, faces_of(rng, ada, 3))
    two_of_three = np.concatenate([faces_of(rng, ada, 2), faces_of(rng, person(rng))])
    assert index.decide(two_of_three).visitor == 1
    one_of_three = np.concatenate([faces_of(rng, ada), faces_of(rng, person(rng)), faces_of(rng, person(rng))])
    assert index.decide(one_of_three).visitor is None, "one frame near a visitor is not enough"


def test_a_face_as_near_two_visitors_is_neither(rng: np.random.Generator) -> None:
    index = VisitorIndex(np.stack([person(rng) for _ in range(40)]))
    twin = person(rng)
    index.add(1, twin[None, :])
    index.add(2, (twin + rng.normal(0.0, 0.001, 128))[None, :])  # two visitors with (nearly) the same face
    between = index.decide(faces_of(rng, twin))
    assert between.visitor is None and between.margin is not None and between.margin < 1.1
    index.forget(2)
    assert index.decide(faces_of(rng, twin)).visitor == 1 and 2 not in index


def test_a_visitor_keeps_their_newest_encodings_only(rng: np.random.Generator) -> None:
    index = VisitorIndex(np.stack([person(rng) for _ in range(10)]), kept_per_visitor=4)
    old, new = person(rng), person(rng)
    index.add(1, faces_of(rng, old, 3))
    index.add(1, faces_of(rng, new, 4))
    assert index.encodings == 4
    assert index.decide(faces_of(rng, new)).visitor == 1
    assert index.decide(faces_of(rng, old)).visitor is None, "the oldest were let go"
    assert MAX_KEPT_PER_VISITOR >= 3 * 5, "a visitor keeps at least five sightings' worth"


def test_encodings_are_stored_as_float32_and_a_bad_blob_is_none(rng: np.random.Generator) -> None:
    encodings = rng.normal(0.0, SPREAD, (3, 128))
    blob = to_bytes(encodings)
    assert len(blob) == 3 * 128 * 4
    assert np.allclose(from_bytes(blob), encodings, atol=1e-6)
    assert from_bytes(blob[:-1]).shape == (0, 128) and from_bytes(None).shape == (0, 128)


def test_real_faces_two_photos_of_one_stranger_and_not_another(data_dir: Path) -> None:
    """LFW photos, encoded by the product's code: the rule holds on dlib's encodings, not only on made-up ones."""
    from shared.faces import facelib
    from shared.faces.matcher import load_background
    from shared.faces.photo import photo_faces, read_rgb

    def encoding(person: str, number: int) -> np.ndarray:
        """The face nearest the photo's centre (LFW's subject; others may stand behind)."""
        rgb = read_rgb((data_dir / "lfw_dev" / "images" / person / f"{person}_{number:04d}.jpg").read_bytes())
        middle = rgb.shape[0] / 2
        subject = min(
            photo_faces(rgb), key=lambda box: abs((box[0] + box[2]) / 2 - middle) + abs((box[1] + box[3]) / 2 - middle)
        )
        return facelib.encode(rgb, [subject])

    index = VisitorIndex(load_background())
    index.add(1, encoding("Abdel_Nasser_Assidi", 1))
    assert index.decide(encoding("Abdel_Nasser_Assidi", 2)).visitor == 1
    assert index.decide(encoding("Antonio_Banderas", 1)).visitor is None
