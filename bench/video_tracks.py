"""How often a face on video is named right, per track: the product's analyzer and tracker, offline.

Why it exists: on video a face is seen many times, and the tracker names it by
a vote over several encodings. The figure a user cares about is per track: of
the faces of a known person that came and went, how many were shown with their
name (and never another's); of strangers' faces, how many were ever shown with
a known name. This runs the product's own ``analyzer.analyze`` and
``CameraTracker`` frame by frame in one process (no bus, no timing pressure:
every frame analysed, as the adaptive rate does on an idle pool) on:

* ``bill``: the Bill Clinton clip (39 s; every face is his), with his reference
  photos enrolled among the 40 known LFW people (3 photos each) as distractors;
* ``strangers``: every LFW photo of a person who is not enrolled, each held for
  a few frames like a person passing a camera, against the same gallery.
  Frames of one photo are identical, so their votes agree more than real
  frames would: this measures the decision rule, not the vote's smoothing;
* ``hamilton``: the hamilton clip with its reference people (no per-face truth:
  reported, not scored);
* ``bill_unenrolled`` and ``hamilton_unenrolled``: the same clips against the 40
  LFW people alone, so every face on them is a stranger seen on real video for
  many frames (39 s of Bill Clinton, re-encoded over and over): does any track
  ever get a known name?

Run: ``.venv/bin/python bench/video_tracks.py`` (``--quick`` for a smoke run).
Prints a table and a final ``JSON`` line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from services.broker.sweep import Sweeps  # noqa: E402
from services.broker.tracker import CameraTracker  # noqa: E402
from services.capture.motion import MotionDetector  # noqa: E402
from services.infer.analyzer import CorruptFrame, analyze  # noqa: E402
from shared.bus.schema import UNKNOWN  # noqa: E402
from shared.config import Settings, load_config  # noqa: E402
from shared.faces.gallery import load_gallery  # noqa: E402
from shared.faces.matcher import Gallery  # noqa: E402

DATA = REPO.parent / "shared" / "data"
ENROLLED_PER_PERSON = 3
MIN_TRACK_FRAMES = 3
"""A track seen on fewer analysed frames is a flicker, not a face passing by: not scored."""


def lfw_people(data: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Known LFW people's photos, and every photo of a person who is not enrolled."""
    rows = [line.split("\t") for line in (data / "lfw_dev" / "identities.tsv").read_text().splitlines()[1:]]
    known = {row[0] for row in rows if row[1] == "known"}
    photos: dict[str, list[Path]] = {}
    strangers: list[Path] = []
    for folder in sorted((data / "lfw_dev" / "images").iterdir()):
        images = sorted(folder.glob("*.jpg"))
        if folder.name in known:
            photos[folder.name] = images
        else:
            strangers.extend(images)
    return photos, strangers


def build_gallery(people: dict[str, list[Path]], workdir: Path) -> Gallery:
    """The product's gallery from a faces folder of symlinks (its cache lives in ``workdir``)."""
    faces = workdir / "faces"
    for name, images in people.items():
        (faces / name).mkdir(parents=True, exist_ok=True)
        for image in images:
            link = faces / name / image.name
            if not link.exists():
                link.symlink_to(image)
    return load_gallery(faces, workdir / "data")


def frames_of_clip(path: Path, limit: int | None):
    """(capture time, JPEG bytes, motion regions, (width, height)) of a video file at its own rate, as capture sends."""
    video = cv2.VideoCapture(str(path))
    fps = video.get(cv2.CAP_PROP_FPS) or 30.0
    motion = MotionDetector()
    index = 0
    while limit is None or index < limit:
        ok, frame = video.read()
        if not ok:
            break
        capture_ts = index / fps
        regions = motion.regions(frame, at=capture_ts)
        jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
        yield capture_ts, jpeg, regions, (frame.shape[1], frame.shape[0])
        index += 1
    video.release()


def frames_of_photos(photos: list[Path], frames_each: int, fps: float = 10.0, gap_s: float = 2.0):
    """Each photo held for a few frames, with a pause between photos so each face starts a new track."""
    clock = 0.0
    for photo in photos:
        jpeg = photo.read_bytes()
        height, width = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE).shape[:2]
        for _ in range(frames_each):
            yield clock, jpeg, None, (width, height)
            clock += 1.0 / fps
        clock += gap_s


def run_tracks(frames, gallery: Gallery, settings: Settings) -> tuple[dict[int, list[str]], int, int, float]:
    """Every track's shown names, frame by frame; and faces seen, faces encoded, seconds spent."""
    tracker = CameraTracker(settings.reencode_s, settings.track_max_age_s, settings.track_iou)
    sweeps = Sweeps(settings)
    shown: dict[int, list[str]] = defaultdict(list)
    seen = encoded = 0
    started = time.perf_counter()
    for capture_ts, jpeg, motion, (width, height) in frames:
        sweep = sweeps.next_tile("clip", width, height, capture_ts)
        motion = motion if sweeps.motion_due("clip", capture_ts) else None
        try:
            analysis = analyze(jpeg, gallery, settings, tracker.hints(capture_ts), motion, sweep)
        except CorruptFrame:
            continue
        seen += len(analysis.detections)
        encoded += sum(detection.name is not None for detection in analysis.detections)
        for face in tracker.update(analysis.detections, capture_ts):
            shown[face.track_id].append(face.name)
    return shown, seen, encoded, time.perf_counter() - started


def score(shown: dict[int, list[str]], expected: str | None) -> dict:
    """Per-track outcome: right (expected name shown, no other known name), or a stranger's track named."""
    tracks = {track: names for track, names in shown.items() if len(names) >= MIN_TRACK_FRAMES}
    named_as = {track: {name for name in names if name != UNKNOWN} for track, names in tracks.items()}
    if expected is None:
        wrong = [track for track, names in named_as.items() if names]
        return {
            "tracks": len(tracks),
            "strangers_named": len(wrong),
            "strangers_named_pct": round(100.0 * len(wrong) / max(1, len(tracks)), 2),
            "named_as": dict(Counter(name for names in named_as.values() for name in names)),
        }
    right = [track for track, names in named_as.items() if names == {expected}]
    wrong_name = [track for track, names in named_as.items() if names - {expected}]
    frames_named = sum(names.count(expected) for names in tracks.values())
    frames = sum(len(names) for names in tracks.values())
    return {
        "tracks": len(tracks),
        "right": len(right),
        "right_pct": round(100.0 * len(right) / max(1, len(tracks)), 2),
        "wrong_name": len(wrong_name),
        "frames_named_pct": round(100.0 * frames_named / max(1, frames), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few hundred frames per clip, 100 strangers")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if not (args.data / "README.md").is_file():
        print(f"video_tracks: face data not found at {args.data}; nothing measured")
        return 0
    os.environ.setdefault("CONFIG_FILE", "/nonexistent/facestream.toml")
    settings = load_config(source="none")
    known, strangers = lfw_people(args.data)
    enrolled = {name: images[:ENROLLED_PER_PERSON] for name, images in known.items()}
    bill = sorted((args.data / "video_bill_clinton" / "reference" / "Bill_Clinton").glob("*.jpg"))
    hamilton_people = {
        folder.name: sorted(folder.iterdir())
        for folder in sorted((args.data / "video_hamilton" / "reference").iterdir())
    }
    limit = 300 if args.quick else None
    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="facestream-video-tracks-") as scratch:
        workdir = Path(scratch)
        lfw_gallery = build_gallery({**enrolled, "Bill_Clinton": bill}, workdir / "lfw")
        lfw_only = build_gallery(enrolled, workdir / "lfw-only")
        runs = [
            (
                "bill",
                frames_of_clip(args.data / "video_bill_clinton" / "Bill_Clinton.avi", limit),
                lfw_gallery,
                "Bill_Clinton",
            ),
            (
                "strangers",
                frames_of_photos(strangers[:100] if args.quick else strangers, frames_each=4),
                lfw_gallery,
                None,
            ),
            (
                "hamilton",
                frames_of_clip(args.data / "video_hamilton" / "short_hamilton_clip.mp4", limit),
                build_gallery(hamilton_people, workdir / "hamilton"),
                "Lin_Manuel_Miranda",
            ),
            (
                "bill_unenrolled",
                frames_of_clip(args.data / "video_bill_clinton" / "Bill_Clinton.avi", limit),
                lfw_only,
                None,
            ),
            (
                "hamilton_unenrolled",
                frames_of_clip(args.data / "video_hamilton" / "short_hamilton_clip.mp4", limit),
                lfw_only,
                None,
            ),
        ]
        for label, frames, gallery, expected in runs:
            shown, seen, encoded, seconds = run_tracks(frames, gallery, settings)
            report[label] = {
                **score(shown, expected),
                "faces_seen": seen,
                "faces_encoded": encoded,
                "encoded_pct": round(100.0 * encoded / max(1, seen), 1),
                "seconds": round(seconds, 1),
            }
            if label == "hamilton":  # no per-face truth: other people appear too
                report[label]["note"] = "not scored: the clip shows other people as well"
    print(f"{'clip':20} {'tracks':>6} {'right %':>8} {'strangers named %':>18} {'faces encoded %':>16}")
    for label, row in report.items():
        print(
            f"{label:20} {row['tracks']:>6} {row.get('right_pct', ''):>8} {row.get('strangers_named_pct', ''):>18} "
            f"{row['encoded_pct']:>16}"
        )
    print("JSON " + json.dumps({"bench": "video_tracks", "quick": args.quick, "results": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
