"""Small faces in a 1080p camera, through the real pipeline: found down to 40 px tall, named, and nothing else boxed.

A 12 s 1920x1080 clip is made here (``bench/scene.py``): LFW photos of known
people, 40 to 160 px tall, drifting over a brick wall, 6 at a time, with no
face in the first second and in one second in the middle; photos 1-3 of each
person are enrolled, photo 4 is the one on screen. The pipeline plays it as a
camera (the file loops; a result's ``frame_id`` modulo the clip's frame count
is the frame in the clip, whose truth the scene knows), with two workers and
the default settings, and the results on the bus are scored over about two
plays of the clip, after the first 2 s (tracks and names need a moment).

The figures are printed (``pytest -s``) and named in every failure message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import pytest

from bench.scene import Scene, SceneDataMissing, make_scene, match_faces
from shared.boxes import to_pixels
from shared.bus.schema import UNKNOWN
from tests.harness import Pipeline, ResultRecorder, wait_for

pytestmark = pytest.mark.integration

CAMERA = "street"
WIDTH, HEIGHT = 1920, 1080
FPS = 10.0
SECONDS = 12.0
SEED = 3
WARMUP_S = 2.0
"""Results for frames captured in the first seconds of the run are not scored: tracks and names need a moment."""
PLAYS = 2.0
"""Results are collected until the scored frames span this many plays of the clip."""
GRACE_AFTER_FACES_S = 0.5
"""Empty frames this soon after faces were on screen are not held to 'no box at all'."""
SMALL = (40, 60)
LARGE_FROM = 60
BANDS = ("40-60", "60+")
MIN_RECALL_SMALL = 0.70
MIN_RECALL_LARGE = 0.90
MIN_NAMES_RIGHT = 0.95
"""Of the matched faces shown with a known name, at least this share with the right one."""
MIN_LARGE_NAMED_RIGHT = 0.5
"""Faces of 60 px or more shown with their right name on at least this share of the analysed frames they are on."""


def band_of(size_px: int) -> str | None:
    """The size band a face counts in: 40-60 px, 60 px and more, or none."""
    if size_px >= LARGE_FROM:
        return "60+"
    return "40-60" if SMALL[0] <= size_px < SMALL[1] else None


@dataclass
class Scores:
    """The results scored against the scene's truth."""

    analysed: int = 0
    present_by_size: dict[int, int] = field(default_factory=dict)
    found_by_size: dict[int, int] = field(default_factory=dict)
    shown_named: int = 0
    named_right: int = 0
    large_named_right: int = 0
    empty_frames_checked: int = 0
    wrong_names: list[tuple[int, str, str]] = field(default_factory=list, repr=False)
    """(frame in the clip, name shown, true name)."""
    boxes_on_empty: list[tuple[int, list]] = field(default_factory=list, repr=False)
    """(frame in the clip, pixel boxes)."""

    def present(self, band: str) -> int:
        return sum(count for size, count in self.present_by_size.items() if band_of(size) == band)

    def found(self, band: str) -> int:
        return sum(count for size, count in self.found_by_size.items() if band_of(size) == band)

    def recall(self, band: str) -> float:
        return self.found(band) / self.present(band) if self.present(band) else 0.0

    def summary(self) -> str:
        recall = {band: f"{self.found(band)}/{self.present(band)} = {self.recall(band):.2f}" for band in BANDS}
        by_size = {
            size: f"{self.found_by_size.get(size, 0)}/{count}" for size, count in sorted(self.present_by_size.items())
        }
        return (
            f"{self.analysed} analysed frames; recall {recall}; by size (px: found/present) {by_size}; "
            f"right names among named {self.named_right}/{self.shown_named}; "
            f"60+ px named right {self.large_named_right}/{self.present('60+')}; "
            f"empty frames checked {self.empty_frames_checked}, with boxes {len(self.boxes_on_empty)}; "
            f"wrong names (frame, shown, truth) {self.wrong_names[:10]}"
        )


def score(scene: Scene, results: list[dict]) -> Scores:
    """Each result's boxes and names against the truth of its frame in the clip."""
    scores = Scores()
    grace = round(GRACE_AFTER_FACES_S * scene.fps)
    for result in results:
        assert (result["width"], result["height"]) == (scene.width, scene.height)
        index = result["frame_id"] % scene.frame_count
        truth = scene.truth[index]
        boxes = [to_pixels(face["box"], scene.width, scene.height) for face in result["faces"]]
        scores.analysed += 1
        if not truth:
            recently = [scene.truth[(index - back) % scene.frame_count] for back in range(1, grace + 1)]
            if not any(recently):
                scores.empty_frames_checked += 1
                if boxes:
                    scores.boxes_on_empty.append((index, boxes))
            continue
        pairs = dict(match_faces(boxes, truth))
        for truth_index, face in enumerate(truth):
            scores.present_by_size[face.size_px] = scores.present_by_size.get(face.size_px, 0) + 1
            if truth_index not in pairs:
                continue
            scores.found_by_size[face.size_px] = scores.found_by_size.get(face.size_px, 0) + 1
            name = result["faces"][pairs[truth_index]]["name"]
            if name != UNKNOWN:
                scores.shown_named += 1
                if name == face.name:
                    scores.named_right += 1
                else:
                    scores.wrong_names.append((index, name, face.name))
            if band_of(face.size_px) == "60+" and name == face.name:
                scores.large_named_right += 1
    return scores


@pytest.fixture(scope="module")
def scene(data_dir: Path) -> Scene:
    try:
        return make_scene(data_dir, WIDTH, HEIGHT, round(SECONDS * FPS), FPS, SEED)
    except SceneDataMissing as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def scores(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Scores:
    """Run the pipeline on the clip for about two plays after the warm-up; score what it published."""
    workdir = tmp_path_factory.mktemp("small-faces")
    clip = scene.write_video(workdir / "street.mp4")
    video = cv2.VideoCapture(str(clip))
    frames_in_file = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    video.release()
    assert frames_in_file == scene.frame_count, "the clip must hold every frame, or frame ids would not map to truth"
    pipeline = Pipeline.configure(
        workdir,
        source=f"{CAMERA}={clip}",
        faces_dir=str(scene.write_faces_dir(workdir / "faces")),
        workers="2",
    )
    recorder = ResultRecorder(pipeline.bus_port, keep_all=True)
    recorder.start()
    try:
        pipeline.start()
        pipeline.wait_for_workers(2)
        first = wait_for(lambda: recorder.results(CAMERA), 60, f"the first result of camera {CAMERA}")[0][1]
        scored_from = first["capture_ts"] + WARMUP_S
        needed_s = PLAYS * scene.frame_count / scene.fps

        def played_enough() -> bool:
            results = [result for _, result in recorder.results(CAMERA)]
            return bool(results) and results[-1]["capture_ts"] - scored_from >= needed_s

        wait_for(played_enough, needed_s + WARMUP_S + 60, f"{PLAYS} plays of the clip to be analysed", poll_s=0.5)
        results = [result for _, result in recorder.results(CAMERA) if result["capture_ts"] >= scored_from]
        assert "Traceback" not in pipeline.log("infer"), pipeline.log("infer")[-3000:]
    finally:
        recorder.stop()
        try:
            pipeline.stop()
        finally:
            pipeline.kill_leftovers()
    scored = score(scene, results)
    print(f"\nsmall faces at {WIDTH}x{HEIGHT}: {scored.summary()}")
    return scored


def test_small_and_large_faces_are_found(scores: Scores) -> None:
    assert scores.analysed >= PLAYS * SECONDS * 2, f"too few frames analysed to judge: {scores.summary()}"
    assert scores.recall("60+") >= MIN_RECALL_LARGE, f"faces of 60 px or more missed: {scores.summary()}"
    assert scores.recall("40-60") >= MIN_RECALL_SMALL, f"faces of 40-60 px missed: {scores.summary()}"


def test_found_faces_are_named_right(scores: Scores) -> None:
    assert scores.shown_named, f"no face was named at all: {scores.summary()}"
    assert scores.named_right >= MIN_NAMES_RIGHT * scores.shown_named, f"wrong names: {scores.summary()}"
    assert scores.large_named_right >= MIN_LARGE_NAMED_RIGHT * scores.present("60+"), (
        f"faces of 60 px or more were seldom named: {scores.summary()}"
    )


def test_no_boxes_where_there_is_no_face(scores: Scores) -> None:
    assert scores.empty_frames_checked >= 5, f"too few empty frames analysed to judge: {scores.summary()}"
    assert not scores.boxes_on_empty, f"boxes on frames without a face (frame, boxes): {scores.boxes_on_empty[:10]}"
