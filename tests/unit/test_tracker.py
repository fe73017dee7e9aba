"""Tracks: one id per face across frames, encoding only when due, names decided by agreeing votes."""

from __future__ import annotations

import pytest

from services.broker.tracker import CameraTracker
from shared.boxes import associate, iou
from shared.bus.schema import Detection


def _tracker() -> CameraTracker:
    return CameraTracker(reencode_s=1.0, max_age_s=1.0, min_iou=0.3)


def _seen(x: float, name: str | None = None, track_id: int | None = None, confidence: float = 95.0) -> Detection:
    return Detection(
        box=(x, 0.2, 0.1, 0.2),
        track_id=track_id,
        name=name,
        distance=0.4 if name else None,
        confidence=confidence if name else 0.0,
    )


def test_iou_and_association() -> None:
    assert iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0 and iou((0, 0, 1, 1), (2, 2, 1, 1)) == 0.0
    assert iou((0, 0, 2, 1), (1, 0, 2, 1)) == pytest.approx(1 / 3)
    pairs = associate([(0.5, 0, 0.1, 0.1), (0, 0, 0.1, 0.1)], [(0.01, 0, 0.1, 0.1), (0.51, 0, 0.1, 0.1)], 0.3)
    assert sorted(pairs) == [(0, 1), (1, 0)]
    assert associate([(0, 0, 0.1, 0.1)], [(0.5, 0.5, 0.1, 0.1)], 0.3) == []


def test_a_face_keeps_its_track_id_as_it_moves() -> None:
    tracker = _tracker()
    ids = [tracker.update([_seen(0.10 + 0.01 * step, "Ada")], capture_ts=step * 0.1)[0].track_id for step in range(5)]
    assert len(set(ids)) == 1
    [other] = tracker.update([_seen(0.14, None), _seen(0.8, "Bob")], capture_ts=0.5)[1:]
    assert other.track_id != ids[0]


def test_a_name_needs_two_agreeing_encodings() -> None:
    tracker = _tracker()
    [first] = tracker.update([_seen(0.1, "Ada")], 0.0)
    assert first.name == "Unknown" and first.confidence == 50.0
    [second] = tracker.update([_seen(0.1, "Ada", track_id=first.track_id)], 0.1)
    assert second.name == "Ada" and second.confidence == pytest.approx(95.0)


def test_one_odd_encoding_does_not_rename_a_track() -> None:
    tracker = _tracker()
    for step in range(3):
        tracker.update([_seen(0.1, "Ada")], step * 0.1)
    [face] = tracker.update([_seen(0.1, "Bob")], 0.3)
    assert face.name == "Ada"


def test_a_sure_track_is_encoded_again_only_after_reencode_s() -> None:
    tracker = _tracker()
    for step in range(2):
        tracker.update([_seen(0.1, "Ada")], step * 0.1)
    assert [hint.encode for hint in tracker.hints(0.5)] == [False]
    tracker.update([_seen(0.1, None)], 0.5)  # not encoded: keeps its name
    assert tracker.update([_seen(0.1, None)], 0.6)[0].name == "Ada"
    assert [hint.encode for hint in tracker.hints(1.2)] == [True]


def test_an_unsure_track_is_encoded_on_every_frame() -> None:
    tracker = _tracker()
    tracker.update([_seen(0.1, "Ada")], 0.0)
    assert [hint.encode for hint in tracker.hints(0.1)] == [True]


def test_hints_predict_where_a_moving_face_is() -> None:
    tracker = _tracker()
    for step in range(4):
        tracker.update([_seen(0.1 + 0.03 * step, "Ada")], step * 0.1)  # moving right, 0.3 frame widths a second
    [hint] = tracker.hints(0.5)
    assert hint.box[0] == pytest.approx(0.25, abs=0.01)


def test_a_face_unseen_for_too_long_loses_its_track() -> None:
    tracker = _tracker()
    [face] = tracker.update([_seen(0.1, "Ada")], 0.0)
    assert tracker.hints(1.5) == []
    assert tracker.update([_seen(0.1, "Ada")], 1.5)[0].track_id != face.track_id


def test_a_late_result_from_a_slower_worker_does_not_move_the_box_back() -> None:
    tracker = _tracker()
    tracker.update([_seen(0.1, "Ada")], 0.0)
    tracker.update([_seen(0.14, "Ada")], 0.2)
    tracker.update([_seen(0.12, "Ada")], 0.1)
    assert list(tracker.tracks) == [1] and tracker.tracks[1].box[0] == pytest.approx(0.14)


def test_unknown_is_settled_only_by_a_full_set_of_votes() -> None:
    tracker = _tracker()
    for step in range(2):
        tracker.update([_seen(0.1, "Unknown", confidence=90.0)], step * 0.1)
    assert [hint.encode for hint in tracker.hints(0.2)] == [True], "two frames may be a known face turned away"
    for step in range(2, 5):
        tracker.update([_seen(0.1, "Unknown", confidence=90.0)], step * 0.1)
    assert [hint.encode for hint in tracker.hints(0.5)] == [False]


def _voted(x: float, name: str, leaning: str | None, confidence: float = 90.0) -> Detection:
    return Detection(box=(x, 0.2, 0.1, 0.2), name=name, distance=0.45, confidence=confidence, leaning=leaning)


def test_a_settled_unknown_is_checked_again_soon_and_named_when_the_face_turns() -> None:
    """A known face often enters in profile: five confident Unknowns must not hide it for a whole second."""
    tracker = _tracker()
    for step in range(5):
        tracker.update([_seen(0.1, "Unknown", confidence=95.0)], step * 0.03)
    assert [hint.encode for hint in tracker.hints(0.15)] == [False]
    assert [hint.encode for hint in tracker.hints(0.12 + 1.0 / 4 + 0.01)] == [True], "long before reencode_s"
    [first] = tracker.update([_seen(0.1, "Ada")], 0.4)
    assert first.name == "Unknown"
    assert [hint.encode for hint in tracker.hints(0.43)] == [True], "an encoding that disagrees unsettles the vote"
    [second] = tracker.update([_seen(0.1, "Ada")], 0.43)
    assert second.name == "Ada", "two agreeing newest encodings name it, whatever the older profile views said"


def test_a_named_track_keeps_its_name_while_its_encodings_lean_to_it() -> None:
    tracker = _tracker()
    for step in range(2):
        tracker.update([_voted(0.1, "Ada", "Ada")], step * 0.1)
    for step in range(2, 5):  # tilted away: too far to name on its own, near enough to keep
        [face] = tracker.update([_voted(0.1, "Unknown", "Ada", confidence=60.0)], step * 0.1)
        assert face.name == "Ada" and face.confidence >= 50.0
    assert [hint.encode for hint in tracker.hints(0.5)] == [True], "kept, but not sure: encoded every frame"
    [face] = tracker.update([_voted(0.1, "Unknown", None)], 0.5)
    assert face.name == "Ada", "still 4 of 5 leaning"
    for step in range(6, 8):
        [face] = tracker.update([_voted(0.1, "Unknown", None)], step * 0.1)
    assert face.name == "Unknown", "most encodings no longer lean to her: someone else, or nobody known"
    [face] = tracker.update([_voted(0.1, "Unknown", "Ada")], 0.8)
    assert face.name == "Unknown", "once lost, a lean alone does not bring the name back"


def test_a_lean_alone_never_names_a_track() -> None:
    tracker = _tracker()
    for step in range(5):
        [face] = tracker.update([_voted(0.1, "Unknown", "Ada")], step * 0.1)
    assert face.name == "Unknown"
