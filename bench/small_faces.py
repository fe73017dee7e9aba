"""Small faces in large frames: recall by face size, and CPU per analysed frame, today's detection against the new.

Why it exists: today a worker searches a frame shrunk to ``SCALE`` (25 %) with
one upsample, which cannot find a face much under ~160 px tall in a 1080p
frame. The small-face search (``MIN_FACE_PX``, default 40) adds full-resolution
searches of the motion regions capture reports, of the tracked faces and of a
"sweep" tile the dispatcher hands out. This measures what that buys and costs,
on synthetic scenes with ground truth (``bench/scene.py``: LFW faces 40-160 px
tall moving over a photo without faces) at 1280x720, 1920x1080 and 3840x2160.

Per resolution, both modes run in this one process on the same frames (no bus,
as ``bench/video_tracks.py`` does), every ``--every``-th frame analysed as a
worker would, with the product's own code:

* ``today``: ``services.infer.analyzer.analyze`` with ``MIN_FACE_PX=0`` (the
  whole-frame pass alone, as before the small-face search) and no motion or sweep;
* ``small``: the default settings, the motion regions of
  ``services.capture.motion.MotionDetector`` (fed every frame with its capture
  time, as capture does) and the sweep tile the dispatcher's
  ``services.broker.sweep.Sweeps`` hands out for the frame (at most one per
  ``SWEEP_INTERVAL_S`` of capture time), as the frame header and the work
  message carry them.

Each mode has its own ``services.broker.tracker.CameraTracker``, whose hints go
into the next analysis as the dispatcher's would. Frames are JPEG-encoded at
``JPEG_QUALITY`` as capture publishes them.

Figures per resolution and mode:

* **recall** per face-size band (40-60, 60-80, 80-120, 120+ px tall): truth
  faces on analysed frames matched by a detection (IoU >= 0.3, or the
  detection's centre inside the truth box) / truth faces on analysed frames;
* **false/empty**: boxes per analysed frame on the frames without any face;
  **extra/frame**: unmatched boxes per analysed frame on the frames with faces;
* **named**: matched faces shown with their right name (the tracker's verdict),
  and **wrong**: matched faces shown with another known name;
* **CPU ms**: ``time.process_time`` around ``analyze`` alone, per analysed
  frame (decode, detect, encode, match: the worker's work, one BLAS thread);
  **x today**: that over today's. Capture's motion detection is reported
  apart, per captured frame.

Run: ``.venv/bin/python bench/small_faces.py`` (``--quick`` for 5 s scenes).
Prints a table and a final ``JSON`` line, and writes the JSON to
``bench/results/small_faces.json`` (git-ignored; ``--out`` to change).
Exits 0 with a message when ``../shared/data`` is absent.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in a worker (services/infer/__init__.py says why)

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402

from bench.scene import Scene, SceneDataMissing, default_data_dir, make_scene, match_faces  # noqa: E402
from services.broker.sweep import Sweeps  # noqa: E402
from services.broker.tracker import CameraTracker  # noqa: E402
from services.capture.motion import MotionDetector  # noqa: E402
from services.infer.analyzer import CorruptFrame, analyze  # noqa: E402
from shared.boxes import to_pixels  # noqa: E402
from shared.bus.schema import UNKNOWN  # noqa: E402
from shared.config import Settings, load_config  # noqa: E402
from shared.faces.gallery import load_gallery  # noqa: E402
from shared.faces.matcher import Gallery  # noqa: E402

RESOLUTIONS = ((1280, 720), (1920, 1080), (3840, 2160))
BANDS = ((40, 60), (60, 80), (80, 120), (120, 10_000))
"""Face heights (px), lowest included, highest not."""
FPS = 10.0
SEED = 7
CAMERA = "scene"
RESULTS = REPO / "bench" / "results" / "small_faces.json"


def band_label(band: tuple[int, int]) -> str:
    return f"{band[0]}+" if band[1] >= 10_000 else f"{band[0]}-{band[1]}"


def band_of(size_px: int) -> tuple[int, int]:
    return next(band for band in BANDS if band[0] <= size_px < band[1])


@dataclass
class Tally:
    """What one mode found on one scene, summed over its analysed frames."""

    present: dict[str, int] = field(default_factory=lambda: {band_label(band): 0 for band in BANDS})
    matched: dict[str, int] = field(default_factory=lambda: {band_label(band): 0 for band in BANDS})
    named_right: int = 0
    named_wrong: int = 0
    empty_frames: int = 0
    boxes_on_empty: int = 0
    frames_with_faces: int = 0
    extra_boxes: int = 0
    frames: int = 0
    cpu_s: float = 0.0
    corrupt: int = 0

    def add(self, scene: Scene, index: int, found: list[tuple[int, int, int, int]], names: list[str]) -> None:
        """Score one analysed frame's boxes and their shown names against the truth."""
        truth = scene.truth[index]
        self.frames += 1
        if not truth:
            self.empty_frames += 1
            self.boxes_on_empty += len(found)
            return
        self.frames_with_faces += 1
        pairs = match_faces(found, truth)
        self.extra_boxes += len(found) - len(pairs)
        for face in truth:
            self.present[band_label(band_of(face.size_px))] += 1
        for truth_index, found_index in pairs:
            face = truth[truth_index]
            self.matched[band_label(band_of(face.size_px))] += 1
            if names[found_index] == face.name:
                self.named_right += 1
            elif names[found_index] != UNKNOWN:
                self.named_wrong += 1

    def figures(self) -> dict[str, Any]:
        matched = sum(self.matched.values())
        return {
            "recall": {
                label: round(self.matched[label] / self.present[label], 3) if self.present[label] else None
                for label in self.present
            },
            "faces_present": dict(self.present),
            "faces_matched": dict(self.matched),
            "false_boxes_per_empty_frame": round(self.boxes_on_empty / self.empty_frames, 3)
            if self.empty_frames
            else None,
            "empty_frames": self.empty_frames,
            "extra_boxes_per_frame": round(self.extra_boxes / self.frames_with_faces, 3)
            if self.frames_with_faces
            else None,
            "named_right_pct": round(100.0 * self.named_right / matched, 1) if matched else None,
            "named_wrong_pct": round(100.0 * self.named_wrong / matched, 1) if matched else None,
            "frames": self.frames,
            "corrupt_frames": self.corrupt,
            "cpu_ms_per_frame": round(1000.0 * self.cpu_s / self.frames, 1) if self.frames else None,
        }


@dataclass
class Mode:
    """One way of analysing: its settings, whether it passes motion and sweep, its own tracks and tally."""

    label: str
    settings: Settings
    small_faces: bool
    tracker: CameraTracker = field(init=False)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.tracker = CameraTracker(self.settings.reencode_s, self.settings.track_max_age_s, self.settings.track_iou)


def modes(base: dict[str, Any], with_small: bool) -> list[Mode]:
    """Today's detection and, when it exists, the small-face search, each with fresh tracks."""
    made = [Mode("today", load_config(**base, min_face_px=0), small_faces=False)]
    if with_small:
        made.append(Mode("small", load_config(**base), small_faces=True))
    return made


def run_scene(
    scene: Scene, gallery: Gallery, runs: list[Mode], every: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Every frame through capture's motion detector; every ``every``-th through each mode's analyzer and tracker."""
    detector = MotionDetector() if any(mode.small_faces for mode in runs) else None
    sweeps = {mode.label: Sweeps(mode.settings) for mode in runs if mode.small_faces}
    motion_cpu_s = 0.0
    jpeg_quality = runs[0].settings.jpeg_quality
    for index in range(scene.frame_count):
        frame = scene.frames[index]
        capture_ts = index / scene.fps
        regions = None
        if detector is not None:
            started = time.process_time()
            regions = detector.regions(frame, at=capture_ts)
            motion_cpu_s += time.process_time() - started
        if index % every:
            continue
        jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])[1].tobytes()
        for mode in runs:
            extra: dict[str, Any] = {}
            if mode.small_faces:
                sweep = sweeps[mode.label].next_tile(CAMERA, scene.width, scene.height, capture_ts)
                motion = regions if sweeps[mode.label].motion_due(CAMERA, capture_ts) else None
                extra = {"motion": motion, "sweep": sweep}
            hints = mode.tracker.hints(capture_ts)
            started = time.process_time()
            try:
                analysis = analyze(jpeg, gallery, mode.settings, hints, **extra)
            except CorruptFrame:
                mode.tally.corrupt += 1
                continue
            mode.tally.cpu_s += time.process_time() - started
            faces = mode.tracker.update(analysis.detections, capture_ts)
            found = [to_pixels(detection.box, scene.width, scene.height) for detection in analysis.detections]
            mode.tally.add(scene, index, found, [face.name for face in faces])
        if index % (every * 20) == 0:
            progress(f"  frame {index}/{scene.frame_count}")
    report: dict[str, Any] = {mode.label: mode.tally.figures() for mode in runs}
    frames = scene.frame_count
    report["motion_cpu_ms_per_captured_frame"] = round(1000.0 * motion_cpu_s / frames, 2) if detector else None
    today_cpu = report["today"]["cpu_ms_per_frame"]
    if "small" in report and today_cpu:
        report["cpu_small_vs_today"] = round(report["small"]["cpu_ms_per_frame"] / today_cpu, 2)
    return report


def describe(scene: Scene) -> dict[str, Any]:
    fewest, most = scene.faces_at_once()
    return {
        "frames": scene.frame_count,
        "fps": scene.fps,
        "people": len(scene.enrol),
        "appearances": len(scene.appearances),
        "sizes_px": sorted({appearance.size_px for appearance in scene.appearances}),
        "faces_at_once": [fewest, most],
        "empty_spans": scene.empty_spans,
    }


def print_table(report: dict[str, dict[str, Any]]) -> None:
    labels = [band_label(band) for band in BANDS]
    header = (
        f"{'resolution':>10} {'mode':>6} "
        + " ".join(f"{'r ' + label:>8}" for label in labels)
        + f" {'false/empty':>11} {'extra/frame':>11} {'named %':>8} {'wrong %':>8} {'CPU ms':>8} {'x today':>8}"
    )
    print(header)
    for resolution, row in report.items():
        for mode in ("today", "small"):
            figures = row.get(mode)
            if figures is None:
                continue
            recall = " ".join(
                f"{figures['recall'][label]:>8.2f}" if figures["recall"][label] is not None else f"{'-':>8}"
                for label in labels
            )
            ratio = row.get("cpu_small_vs_today", "") if mode == "small" else ""
            print(
                f"{resolution:>10} {mode:>6} {recall} {_cell(figures['false_boxes_per_empty_frame'], 11)} "
                f"{_cell(figures['extra_boxes_per_frame'], 11)} {_cell(figures['named_right_pct'], 8)} "
                f"{_cell(figures['named_wrong_pct'], 8)} {_cell(figures['cpu_ms_per_frame'], 8)} {ratio:>8}"
            )
        if row.get("motion_cpu_ms_per_captured_frame") is not None:
            print(
                f"{resolution:>10} capture's motion detection: {row['motion_cpu_ms_per_captured_frame']} ms per frame"
            )


def _cell(value: float | None, width: int) -> str:
    return f"{'-' if value is None else value:>{width}}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s scenes instead of --seconds")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each scene (default 10)")
    parser.add_argument("--every", type=int, default=2, help="analyse every Nth frame (default 2, like EVERY_N)")
    parser.add_argument(
        "--resolutions", default=",".join(f"{w}x{h}" for w, h in RESOLUTIONS), help="e.g. 1920x1080,3840x2160"
    )
    parser.add_argument("--today-only", action="store_true", help="only today's detection")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON written here (default {RESULTS})")
    args = parser.parse_args()
    if not (args.data / "README.md").is_file():
        print(f"small_faces: face data not found at {args.data}; nothing measured")
        return 0
    os.environ.setdefault("CONFIG_FILE", "/nonexistent/facestream.toml")
    with_small = not args.today_only
    seconds = 5.0 if args.quick else args.seconds
    resolutions = [tuple(int(part) for part in item.split("x")) for item in args.resolutions.split(",")]
    report: dict[str, dict[str, Any]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="facestream-small-faces-") as scratch:
        for width, height in resolutions:
            label = f"{width}x{height}"
            print(f"{label}: making a {seconds:g} s scene", flush=True)
            try:
                scene = make_scene(args.data, width, height, round(seconds * FPS), FPS, SEED)
            except SceneDataMissing as error:
                print(f"small_faces: {error}; nothing measured")
                return 0
            workdir = Path(scratch) / label
            gallery = load_gallery(scene.write_faces_dir(workdir / "faces"), workdir / "data")
            runs = modes({"source": "none"}, with_small)
            started = time.perf_counter()
            report[label] = {"scene": describe(scene), **run_scene(scene, gallery, runs, args.every, print)}
            report[label]["seconds"] = round(time.perf_counter() - started, 1)
    print()
    print_table(report)
    result = {
        "bench": "small_faces",
        "quick": args.quick,
        "every": args.every,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "results": report,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")
    print("JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
