"""Naming a face: near a person's photos *compared with a crowd of strangers*, unambiguous, within the tolerance.

The geometry is synthetic so each rule is tested on its own: ``_crowd`` puts
background faces at an exact distance from a point, so the cohort ratio
(distance to the person's centroid / mean distance to the 3 nearest background
faces) is known in advance.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest

from bench import track_matching
from bench.track_matching import confidence_known, distances_by_person, match_track
from shared.bus.schema import UNKNOWN
from shared.config import DEFAULT_NAME_RATIO as NAME_RATIO
from shared.faces import matcher
from shared.faces.matcher import Gallery, Match, load_background, probability_known


def _unit(index: int, scale: float = 1.0) -> np.ndarray:
    vector = np.zeros(128)
    vector[index] = scale
    return vector


def _crowd(centre: np.ndarray, radius: float, count: int = 10, first_dim: int = 100) -> np.ndarray:
    """``count`` background faces each exactly ``radius`` from ``centre`` (and from each other radius*sqrt(2))."""
    return np.stack([centre + _unit(first_dim + i, radius) for i in range(count)])


def test_the_nearest_person_is_named_using_all_their_photos() -> None:
    face = _unit(1) + _unit(3, 0.3)  # 0.3 from ada's second photo, 0.77 from her centroid
    gallery = Gallery(["ada", "ada", "bob"], np.stack([_unit(0), _unit(1), _unit(2)]), background=_crowd(face, 1.5))
    [match] = gallery.match(face[None, :], tolerance=0.6)
    assert match.name == "ada"
    assert match.distance == pytest.approx(0.3)  # still the nearest photo's distance, as before
    assert match.ratio == pytest.approx(np.linalg.norm(face - (_unit(0) + _unit(1)) / 2) / 1.5, abs=1e-4)
    assert match.confidence > 95


def test_a_face_as_near_the_crowd_as_the_person_is_unknown() -> None:
    """Within the old 0.6 tolerance of ada, but a stranger near everyone: the old rule named him."""
    face = _unit(0) + _unit(5, 0.45)
    gallery = Gallery(["ada"], _unit(0)[None, :], background=_crowd(face, 0.5))
    [match] = gallery.match(face[None, :], tolerance=0.6)
    assert match.name == UNKNOWN
    assert match.distance == pytest.approx(0.45) and match.ratio == pytest.approx(0.9)
    assert match.confidence > 90  # sure it is not ada


def test_a_face_beyond_the_tolerance_is_unknown_whatever_the_crowd() -> None:
    face = _unit(0) + _unit(5, 0.8)
    gallery = Gallery(["ada"], _unit(0)[None, :], background=_crowd(face, 3.0))
    [match] = gallery.match(face, tolerance=0.6)
    assert match.name == UNKNOWN and match.distance == pytest.approx(0.8)
    [named] = gallery.match(face, tolerance=0.9)
    assert named.name == "ada"


def test_a_face_between_two_look_alike_people_is_unknown() -> None:
    ada, eve = _unit(0), _unit(0) + _unit(1, 0.2)
    face = _unit(0) + _unit(1, 0.1) + _unit(2, 0.2)  # as near eve as ada: either could be it
    gallery = Gallery(["ada", "eve"], np.stack([ada, eve]), background=_crowd(face, 1.0))
    [match] = gallery.match(face[None, :], tolerance=0.6)
    assert match.name == UNKNOWN
    [alone] = Gallery(["ada"], ada[None, :], background=_crowd(face, 1.0)).match(face[None, :], tolerance=0.6)
    assert alone.name == "ada"  # the same face, unambiguous once eve is not enrolled


def test_an_empty_gallery_calls_everyone_unknown() -> None:
    matches = Gallery([], np.zeros((0, 128))).match(np.stack([_unit(0), _unit(1)]), 0.6)
    assert [m.name for m in matches] == [UNKNOWN] * 2 and all(m.confidence == 100.0 for m in matches)
    assert Gallery(["ada"], _unit(0)[None, :]).match(np.zeros((0, 128)), 0.6) == []


def test_distances_match_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    known = rng.normal(size=(30, 128))
    names = [f"p{i % 7}" for i in range(30)]
    faces = rng.normal(size=(5, 128))
    per_person = distances_by_person(Gallery(names, known), faces)
    for f, face in enumerate(faces):
        for p, person in enumerate(sorted(set(names))):
            expected = min(np.linalg.norm(face - known[i]) for i in range(30) if names[i] == person)
            assert per_person[f, p] == pytest.approx(expected)


def test_ratios_match_their_definition() -> None:
    rng = np.random.default_rng(3)
    known, background, faces = rng.normal(size=(12, 128)), rng.normal(size=(20, 128)), rng.normal(size=(4, 128))
    names = [f"p{i % 4}" for i in range(12)]
    ratios = Gallery(names, known, background=background).ratios(faces)
    for f, face in enumerate(faces):
        crowd = np.sort(np.linalg.norm(background - face, axis=1))[:3].mean()
        for p, person in enumerate(sorted(set(names))):
            centroid = known[[i for i in range(12) if names[i] == person]].mean(axis=0)
            assert ratios[f, p] == pytest.approx(np.linalg.norm(face - centroid) / crowd)


def test_background_faces_of_an_enrolled_person_are_left_out() -> None:
    """Enrolling someone who is in the shipped background must not make them unrecognisable."""
    ada = _unit(0)
    background = np.vstack([ada + _unit(9, 0.2), _crowd(ada, 1.0)])  # ada herself is in the crowd
    gallery = Gallery(["ada"], ada[None, :], background=background)
    assert len(gallery.background) == len(background) - 1
    [match] = gallery.match((ada + _unit(8, 0.3))[None, :], tolerance=0.6)
    assert match.name == "ada"


def test_the_shipped_background_is_loaded_lazily_and_can_be_replaced(tmp_path: Path) -> None:
    shipped = load_background()
    assert shipped.ndim == 2 and shipped.shape[1] == 128 and len(shipped) >= 50 and np.isfinite(shipped).all()
    gallery = Gallery(["ada"], _unit(0)[None, :])
    assert gallery._cohort is None  # nothing read until the first match
    assert len(gallery.background) == len(shipped)
    custom = tmp_path / "crowd.npy"
    np.save(custom, _crowd(_unit(0), 1.0, count=4).astype(np.float32))
    assert len(Gallery(["ada"], _unit(0)[None, :], background=custom).background) == 4


def test_an_unusable_background_file_degrades_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "broken.npy"
    broken.write_bytes(b"not numpy")
    with caplog.at_level(logging.WARNING):
        gallery = Gallery(["ada"], _unit(0)[None, :], background=broken)
        [near] = gallery.match((_unit(0) + _unit(5, 0.3))[None, :], tolerance=0.6)
        [far] = gallery.match((_unit(0) + _unit(5, 0.55))[None, :], tolerance=0.6)
    assert "unusable" in caplog.text
    assert near.name == "ada"  # 0.3 / 0.65 (the fixed crowd distance) is well under the threshold
    assert far.name == UNKNOWN  # 0.55 / 0.65 is not


def test_confidence_is_half_at_the_threshold_and_the_answer_shown_is_the_likelier() -> None:
    assert probability_known(NAME_RATIO) == pytest.approx(0.5)
    assert probability_known(0.5) > 0.99 > 0.01 > probability_known(0.95)
    rng = np.random.default_rng(11)
    known, background = rng.normal(scale=0.1, size=(9, 128)), rng.normal(scale=0.1, size=(30, 128))
    gallery = Gallery(["a", "b", "c"] * 3, known, background=background)
    for match in gallery.match(known + rng.normal(scale=0.03, size=known.shape), tolerance=2.0):
        assert 50.0 <= match.confidence <= 100.0


def test_the_old_distance_confidence_is_still_available() -> None:
    assert confidence_known(0.6, 0.6) == pytest.approx(50.0)
    assert confidence_known(0.4, 0.6) > 95 > 5 > confidence_known(0.8, 0.6)


def test_match_keeps_its_three_positional_fields() -> None:
    match = Match("ada", 0.3, 99.0)
    assert (match.name, match.distance, match.confidence, match.ratio) == ("ada", 0.3, 99.0, None)


def test_a_track_is_named_when_its_encodings_agree() -> None:
    ada, bob = _unit(0), _unit(1)
    gallery = Gallery(["ada", "bob"], np.stack([ada, bob]), background=_crowd(_unit(2), 1.0))
    track = np.stack([ada + _unit(10 + i, 0.3) for i in range(4)])
    match = match_track(gallery, track, tolerance=0.6)
    assert match.name == "ada" and match.confidence > 90 and match.distance == pytest.approx(0.3)


def test_a_track_needs_enough_encodings() -> None:
    ada = _unit(0)
    gallery = Gallery(["ada"], ada[None, :], background=_crowd(_unit(2), 1.0))
    face = (ada + _unit(10, 0.3))[None, :]
    assert gallery.match(face, 0.6)[0].name == "ada"
    single = match_track(gallery, face, 0.6)
    assert single.name == UNKNOWN and single.confidence < 50  # "probably ada, not sure yet": re-encode soon
    assert match_track(gallery, face, 0.6, min_encodings=1).name == "ada"


def test_a_track_whose_encodings_disagree_is_unknown() -> None:
    ada, bob = _unit(0), _unit(1)
    gallery = Gallery(["ada", "bob"], np.stack([ada, bob]), background=_crowd(_unit(2), 1.0))
    track = np.stack([ada + _unit(10, 0.3), ada + _unit(11, 0.3), bob + _unit(12, 0.3), bob + _unit(13, 0.3)])
    assert match_track(gallery, track, tolerance=0.6).name == UNKNOWN


def test_one_lucky_frame_does_not_name_a_stranger_track() -> None:
    ada = _unit(0)
    stranger = ada + _unit(5, 0.5)
    gallery = Gallery(["ada"], ada[None, :], background=_crowd(stranger, 0.55))
    lucky = ada + _unit(6, 0.25)  # one frame that happens to look like ada
    track = np.stack([stranger + _unit(20 + i, 0.05) for i in range(4)] + [lucky])
    assert gallery.match(lucky[None, :], 0.6)[0].name == "ada"
    assert match_track(gallery, track, tolerance=0.6).name == UNKNOWN


def test_matching_against_ten_thousand_photos_takes_a_few_ms() -> None:
    rng = np.random.default_rng(5)
    known = rng.normal(scale=0.12, size=(10_000, 128))
    gallery = Gallery([f"person{i // 10}" for i in range(10_000)], known)
    gallery.match(known[:1], 0.6)  # the first match reads the background
    timings = []
    for i in range(20):
        started = time.perf_counter()
        gallery.match(known[i : i + 1] + 0.01, 0.6)
        timings.append(time.perf_counter() - started)
    assert float(np.median(timings)) < 0.005, f"median {np.median(timings) * 1000:.1f} ms"


def test_constants_are_consistent() -> None:
    assert 0 < matcher.PRUNE_DISTANCE < 0.6 and matcher.MIN_MARGIN >= 1.0 and track_matching.MIN_TRACK_ENCODINGS >= 2
    assert matcher.BACKGROUND_FILE.is_file()


def test_a_face_too_far_to_name_may_still_lean_to_the_person() -> None:
    """Between the person's limit and the track's per-frame limit: Unknown on its own, but leaning."""
    limit = float(matcher.name_limit(NAME_RATIO, 1))
    for ratio, named, leaning in (
        (limit - 0.03, "ada", "ada"),
        (limit + 0.03, UNKNOWN, "ada"),
        (matcher.track_frame_limit(limit) + 0.03, UNKNOWN, None),
    ):
        face = _unit(0) + _unit(5, 0.5 * ratio)
        gallery = Gallery(["ada"], _unit(0)[None, :], background=_crowd(face, 0.5))
        [match] = gallery.match(face[None, :], tolerance=0.6)
        assert match.ratio == pytest.approx(ratio, abs=1e-3)
        assert (match.name, match.leaning) == (named, leaning)


def _look_alike_of_ada() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ada's photo, a stranger 0.3 from her (named ada: ratio 0.3), another photo of that stranger 0.2 from the
    first, and a face of ada's own 0.15 from her photo (0.39 from the stranger's other photo)."""
    ada = _unit(0)
    stranger = ada + _unit(5, 0.3)
    stranger_again = stranger + _unit(6, 0.2)
    ada_again = ada + _unit(7, 0.15)
    return ada, stranger, stranger_again, ada_again


def test_a_face_nearer_a_negative_than_the_person_is_unknown_and_leans_to_nobody() -> None:
    ada, stranger, stranger_again, ada_again = _look_alike_of_ada()
    crowd = _crowd(stranger, 1.0)
    [before] = Gallery(["ada"], ada[None, :], background=crowd).match(stranger[None, :], 0.6)
    assert before.name == "ada" and before.leaning == "ada"
    corrected = Gallery(["ada"], ada[None, :], background=crowd, negatives={"ada": stranger_again[None, :]})
    [after] = corrected.match(stranger[None, :], 0.6)
    assert after.name == UNKNOWN and after.leaning is None  # a track named ada loses the name too
    assert after.confidence >= matcher.VETOED_CONFIDENCE
    assert after.distance == before.distance and after.ratio == before.ratio  # the evidence is still reported
    [own] = corrected.match(ada_again[None, :], 0.6)
    assert own.name == "ada", "ada's own face is nearer her than the negative: still named"


def test_a_vetoed_face_is_not_given_to_the_next_person() -> None:
    ada, stranger, stranger_again, _ = _look_alike_of_ada()
    bob = ada + _unit(5, 0.65)  # 0.35 from the stranger: second, beyond the margin
    names, photos = ["ada", "bob"], np.stack([ada, bob])
    crowd = _crowd(stranger, 1.0)
    assert Gallery(names, photos, background=crowd).match(stranger, 0.6)[0].name == "ada"
    corrected = Gallery(names, photos, background=crowd, negatives={"ada": stranger_again[None, :]})
    assert corrected.match(stranger, 0.6)[0].name == UNKNOWN


def test_negatives_apply_to_their_person_only() -> None:
    ada, stranger, stranger_again, _ = _look_alike_of_ada()
    crowd = _crowd(stranger, 1.0)
    names, photos = ["ada", "bob"], np.stack([ada, _unit(3)])  # bob is far from everyone here
    for negatives in ({"bob": stranger_again[None, :]}, {"ada": np.zeros((0, 128))}, {"nobody": stranger[None, :]}):
        gallery = Gallery(names, photos, background=crowd, negatives=negatives)
        assert gallery.match(stranger, 0.6)[0].name == "ada", negatives
    far = stranger + _unit(8, 0.5)  # a negative further from the face than ada's centroid is
    gallery = Gallery(["ada"], ada[None, :], background=crowd, negatives={"ada": far[None, :]})
    assert gallery.match(stranger, 0.6)[0].name == "ada"
