"""Small faces in a 4K frame, in one process: the product's motion detector, sweep, analyzer and tracker.

A 4K camera through the whole pipeline needs more than the two cores CI has
(bench/small_faces_pipeline.py measures 1080p there); this checks the search
itself on a 3840x2160 scene of moving LFW faces 40-160 px tall, frame by frame
as capture, the dispatcher and a worker would see it (bench/small_faces.py's
loop), against the whole-frame pass alone on the same frames.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scene import SceneDataMissing, make_scene
from bench.small_faces import modes, run_scene
from shared.faces.gallery import load_gallery
from tests.harness import DATA

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir: Path = tmp_path_factory.mktemp("scene-4k")
    try:
        scene = make_scene(DATA, 3840, 2160, frames=50, fps=10.0, seed=7)
    except SceneDataMissing as missing:
        pytest.skip(f"no face data: {missing}")
    gallery = load_gallery(scene.write_faces_dir(workdir / "faces"), workdir / "data")
    return run_scene(scene, gallery, modes({"source": "none"}, with_small=True), every=2, progress=lambda _: None)


def test_small_faces_are_found_in_4k_where_the_whole_frame_pass_misses_them(report: dict) -> None:
    small, today = report["small"]["recall"], report["today"]["recall"]
    assert today["40-60"] == 0.0 and today["60-80"] == 0.0, (
        f"the whole-frame pass was not expected to see them: {today}"
    )
    assert small["40-60"] >= 0.7 and small["60-80"] >= 0.9 and small["80-120"] >= 0.9, f"recall by size: {small}"
    assert small["120+"] >= today["120+"], f"large faces must not be lost: {small} against {today}"


def test_no_box_on_empty_4k_frames_and_no_wrong_name(report: dict) -> None:
    small = report["small"]
    assert small["empty_frames"] >= 3 and small["false_boxes_per_empty_frame"] == 0.0, small
    assert small["named_wrong_pct"] == 0.0 and small["named_right_pct"] > 50.0, small
