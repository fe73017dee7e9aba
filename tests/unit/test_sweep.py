"""The dispatcher's sweep: one tile per interval of a camera's time, round the frame, none where none is needed."""

from __future__ import annotations

from services.broker.sweep import MOTION_INTERVAL_S, SWEEP_INTERVAL_S, Sweeps
from shared.config import load_config
from shared.faces.regions import sweep_tile


def test_tiles_come_in_order_at_most_one_per_interval() -> None:
    sweeps = Sweeps(load_config(source="none"))
    handed = []
    for frame in range(40):
        tile = sweeps.next_tile("door", 1920, 1080, capture_ts=1000.0 + frame * 0.1)
        if tile is not None:
            handed.append(tile)
    seconds, frame_gap = 40 * 0.1, 0.1
    assert seconds / (SWEEP_INTERVAL_S + frame_gap) <= len(handed) <= seconds / SWEEP_INTERVAL_S + 1
    assert handed == [sweep_tile(index, 1920, 1080, 40) for index in range(len(handed))]
    assert len(set(handed)) == len(handed)  # the sweep goes on where it stopped, frame after frame, not round


def test_each_camera_has_its_own_place_and_a_looping_file_starts_its_interval_afresh() -> None:
    sweeps = Sweeps(load_config(source="none"))
    assert sweeps.next_tile("a", 1920, 1080, 50.0) == sweep_tile(0, 1920, 1080, 40)
    assert sweeps.next_tile("b", 1920, 1080, 50.0) == sweep_tile(0, 1920, 1080, 40)
    assert sweeps.next_tile("a", 1920, 1080, 50.1) is None
    assert sweeps.next_tile("a", 1920, 1080, 10.0) == sweep_tile(1, 1920, 1080, 40)  # capture time went back


def test_no_sweep_where_the_whole_frame_pass_finds_the_smallest_face_or_the_search_is_off() -> None:
    assert Sweeps(load_config(source="none", min_face_px=80)).next_tile("a", 640, 360, 1.0) is None
    assert Sweeps(load_config(source="none", min_face_px=0)).next_tile("a", 1920, 1080, 1.0) is None


def test_motion_is_searched_at_most_every_interval_per_camera() -> None:
    sweeps = Sweeps(load_config(source="none"))
    due = [sweeps.motion_due("a", 100.0 + frame / 30) for frame in range(30)]  # one second at 30 fps
    assert 1 / MOTION_INTERVAL_S - 1 <= sum(due) <= 1 / MOTION_INTERVAL_S + 1 and due[0]
    assert sweeps.motion_due("b", 100.0), "each camera has its own pace"
