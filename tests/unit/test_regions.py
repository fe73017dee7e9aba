"""Where the fine pass looks for small faces: its scale, the sweep's coverage, the crops' priority and budget."""

from __future__ import annotations

import numpy as np
import pytest

from shared.faces import regions
from shared.faces.regions import (
    distinct_faces,
    fine_crops,
    fine_pass_needed,
    fine_scale,
    merge_overlapping,
    shifted,
    sweep_tile,
)


def sweep_length(width: int, height: int, min_face_px: int) -> int:
    """How many analysed frames one full sweep takes: the tiles until the first comes round again."""
    first = sweep_tile(0, width, height, min_face_px)
    return next(index for index in range(1, 100_000) if sweep_tile(index, width, height, min_face_px) == first)


@pytest.mark.parametrize("min_face", [20, 30, 40, 50, 60, 80, 120])
def test_the_fine_scale_finds_the_smallest_face_asked_for_and_never_enlarges_by_resizing(min_face: int) -> None:
    scale = fine_scale(min_face)
    assert scale.smallest_face() == pytest.approx(min_face)
    assert 0 < scale.factor <= 1.0 and 0 <= scale.upsample <= regions.MAX_UPSAMPLE


def test_a_small_frame_needs_no_fine_pass() -> None:
    """640x360 at the defaults is searched at 0.5 with one upsample: faces from 80 px. 1080p at 0.25: from 160 px."""
    assert not fine_pass_needed(80, coarse_factor=0.5, coarse_upsample=1)
    assert fine_pass_needed(40, coarse_factor=0.5, coarse_upsample=1)
    assert fine_pass_needed(40, coarse_factor=0.25, coarse_upsample=1)
    assert not fine_pass_needed(0, coarse_factor=0.25, coarse_upsample=1)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (3840, 2160), (640, 360)])
def test_one_sweep_covers_every_pixel_and_tiles_overlap(width: int, height: int) -> None:
    covered = np.zeros((height, width), dtype=np.int32)
    length = sweep_length(width, height, 40)
    for index in range(length):
        x, y, w, h = sweep_tile(index, width, height, 40)
        left, top = round(x * width), round(y * height)
        covered[top : top + round(h * height), left : left + round(w * width)] += 1
    assert covered.min() >= 1
    if length > 1:
        assert covered.max() >= 2  # neighbours overlap: a face on an edge is whole in one of them
    assert sweep_tile(length, width, height, 40) == sweep_tile(0, width, height, 40)  # round and round


def test_a_bigger_frame_is_swept_more_slowly_not_at_a_higher_cost_per_frame() -> None:
    assert sweep_length(3840, 2160, 40) > sweep_length(1920, 1080, 40) > sweep_length(1280, 720, 40)
    hd, uhd = sweep_tile(0, 1920, 1080, 40), sweep_tile(0, 3840, 2160, 40)
    assert hd[2] * 1920 == pytest.approx(uhd[2] * 3840) and hd[3] * 1080 == pytest.approx(uhd[3] * 2160)


def test_overlapping_crops_are_merged_into_one() -> None:
    merged = merge_overlapping([(0, 10, 10, 0), (5, 20, 15, 5), (100, 110, 110, 100)])
    assert sorted(merged) == [(0, 20, 15, 0), (100, 110, 110, 100)]


def test_tracked_faces_come_first_and_the_budget_bounds_the_searched_area() -> None:
    width, height = 3840, 2160
    tracked = [(0.5, 0.5, 0.01, 0.02)]
    everything_moves = [(0.0, 0.0, 0.45, 0.45), (0.55, 0.0, 0.45, 0.45)]
    crops = fine_crops(width, height, 40, tracked, sweep=None, motion=everything_moves)
    magnification = fine_scale(40).magnification
    searched = sum((bottom - top) * (right - left) for top, right, bottom, left in crops) * magnification**2
    assert searched <= regions.FINE_BUDGET_PIXELS
    face_x, face_y = 0.505 * width, 0.51 * height
    assert any(left <= face_x <= right and top <= face_y <= bottom for top, right, bottom, left in crops)


def test_a_crop_is_widened_so_a_face_at_the_edge_of_what_moved_is_whole() -> None:
    [crop] = fine_crops(1920, 1080, 40, [], sweep=None, motion=[(0.5, 0.5, 0.05, 0.05)])
    top, right, bottom, left = crop
    assert left <= 960 - 40 and top <= 540 - 40 and right >= 1056 + 40 and bottom >= 594 + 40


def test_boxes_found_in_a_crop_are_moved_to_frame_pixels_and_found_twice_kept_once() -> None:
    assert shifted((10, 50, 40, 20), crop=(100, 900, 500, 700)) == (110, 750, 140, 720)
    fine, coarse_same_face, other = (100, 160, 160, 100), (96, 164, 166, 94), (300, 360, 360, 300)
    assert distinct_faces([fine, coarse_same_face, other]) == [fine, other]


def test_motion_around_a_tracked_face_costs_nothing_more() -> None:
    face = (0.5, 0.5, 0.03, 0.05)
    alone = fine_crops(1920, 1080, 40, [face], sweep=None, motion=[])
    with_its_motion = fine_crops(1920, 1080, 40, [face], sweep=None, motion=[(0.505, 0.51, 0.02, 0.03)])
    assert with_its_motion == alone


def test_auto_looks_for_small_faces_on_camera_sized_frames_only() -> None:
    assert regions.smallest_face_wanted("auto", 720) == regions.smallest_face_wanted("auto", 2160) == 40
    assert regions.smallest_face_wanted("auto", 360) == 0
    assert regions.smallest_face_wanted(60, 360) == 60 and regions.smallest_face_wanted(0, 1080) == 0
