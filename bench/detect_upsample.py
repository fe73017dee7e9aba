"""What does HOG upsampling buy? Detection cost against faces found, on real data.

Why it exists: ``UPSAMPLE`` (default 1) makes dlib's HOG detector look at an
image enlarged 2x per step, so it finds faces smaller than its 80x80 px window,
at roughly 4x the detection time per step. ``MIN_DETECT_WIDTH`` (default 320)
is the other knob: detect on a bigger copy of the frame instead. This script
measures both on the product's own code (``shared.faces.facelib.detect`` on
the image ``shared.faces.regions.detection_scale`` sizes, shrunk with the
same ``shared.faces.detect.shrink`` the analyzer uses), so the README can state
the trade-off with numbers.

Configurations (scale 0.25 throughout, the default):

* ``u0``      upsample 0, min_detect_width 320
* ``u1``      upsample 1, min_detect_width 320   (the shipped default)
* ``u2``      upsample 2, min_detect_width 320
* ``u0@640``  upsample 0, min_detect_width 640   (a bigger image instead of upsampling)

Datasets, from ``../shared/data`` next to the repository (nothing is copied):

* ``video640``  every 3rd frame of ``video_hamilton/short_hamilton_clip.mp4`` (640x360),
  JPEG-round-tripped at quality 80 as the capture service publishes them
* ``video720p`` the same frames upscaled to 1280x720 (a typical webcam size), then JPEG'd
* ``annotated`` the 9 group photos of ``dlib_faces_annotated/faces`` with 43 hand-labelled
  boxes (``training.xml`` + ``testing.xml``). A labelled face counts as found when a detected
  box (mapped back to full resolution) has IoU >= 0.3 with it, or its centre lies inside
  the label box; detections and labels are paired one-to-one (best IoU first), so
  precision = paired detections / all detections
* ``noface``    the 14 photos of ``images_no_face`` (every box there is a false detection)

Per configuration and dataset it prints the detection time per image (median and
mean of ``time.perf_counter`` around ``facelib.detect`` alone, one process, after
a warm-up call; resizing is not timed, as in the analyzer's ``detect_ms``) and
what was found, then one line ``JSON {...}`` with every number. Timings depend on
the machine and its load; compare configurations within one run.

Run from the repository root::

    .venv/bin/python bench/detect_upsample.py            # full run, a few minutes on 2 cores
    .venv/bin/python bench/detect_upsample.py --quick    # every 15th frame, smoke run
    .venv/bin/python bench/detect_upsample.py --json-only | sed -n 's/^JSON //p'

Exits 0 with a message when ``../shared/data`` (or a set in it) is absent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from shared.boxes import scale_up  # noqa: E402
from shared.faces import facelib  # noqa: E402
from shared.faces.detect import shrink  # noqa: E402
from shared.faces.regions import detection_scale  # noqa: E402

SCALE = 0.25
JPEG_QUALITY = 80
IOU_THRESHOLD = 0.3
CLIP = DATA / "video_hamilton" / "short_hamilton_clip.mp4"
ANNOTATED = DATA / "dlib_faces_annotated" / "faces"
NO_FACE = DATA / "images_no_face"

Box = tuple[int, int, int, int]  # (top, right, bottom, left), as dlib gives it


@dataclass(frozen=True)
class Config:
    name: str
    upsample: int
    min_detect_width: int


CONFIGS = [
    Config("u0", 0, 320),
    Config("u1", 1, 320),
    Config("u2", 2, 320),
    Config("u0@640", 0, 640),
]


@dataclass
class Image:
    name: str
    bgr: np.ndarray
    labels: list[Box] = field(default_factory=list)


# --------------------------------------------------------------------------- data


def _jpeg_round_trip(bgr: np.ndarray) -> np.ndarray:
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def read_clip(every: int) -> list[tuple[int, np.ndarray]]:
    """Every ``every``-th frame of the clip as (frame index, BGR), not yet JPEG'd."""
    capture = cv2.VideoCapture(str(CLIP))
    if not capture.isOpened():
        raise RuntimeError(f"cannot open {CLIP}")
    frames = []
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                frames.append((index, frame))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise RuntimeError(f"no frames decoded from {CLIP}")
    return frames


def video_dataset(frames: list[tuple[int, np.ndarray]], width: int | None) -> list[Image]:
    images = []
    for index, frame in frames:
        if width is not None and frame.shape[1] != width:
            height = round(frame.shape[0] * width / frame.shape[1])
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
        images.append(Image(f"frame{index:04d}", _jpeg_round_trip(frame)))
    return images


def annotated_dataset() -> list[Image]:
    images = []
    for xml_name in ("training.xml", "testing.xml"):
        root = ET.parse(ANNOTATED / xml_name).getroot()
        for node in root.iter("image"):
            bgr = cv2.imread(str(ANNOTATED / node.get("file")), cv2.IMREAD_COLOR)
            if bgr is None:
                raise RuntimeError(f"cannot read {ANNOTATED / node.get('file')}")
            labels = []
            for box in node.iter("box"):
                top, left = int(box.get("top")), int(box.get("left"))
                labels.append((top, left + int(box.get("width")), top + int(box.get("height")), left))
            images.append(Image(node.get("file"), bgr, labels))
    return images


def no_face_dataset() -> list[Image]:
    images = []
    for path in sorted(NO_FACE.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise RuntimeError(f"cannot read {path}")
        images.append(Image(path.name, bgr))
    return images


# ----------------------------------------------------------------- detection


def detection_image(bgr: np.ndarray, config: Config) -> tuple[np.ndarray, float]:
    """The RGB image the analyzer would detect on, and its shrink factor (same code path)."""
    factor = detection_scale(bgr.shape[1], SCALE, config.min_detect_width)
    return np.ascontiguousarray(shrink(bgr, factor)[:, :, ::-1]), factor


def detect_all(images: list[Image], config: Config) -> tuple[list[float], list[list[Box]], list[int]]:
    """Time facelib.detect on every image; boxes are mapped back to full resolution."""
    prepared = [detection_image(image.bgr, config) for image in images]
    facelib.detect(prepared[0][0], config.upsample, "hog")  # warm-up
    times, found = [], []
    for (rgb, factor), image in zip(prepared, images):
        start = time.perf_counter()
        small_boxes = facelib.detect(rgb, config.upsample, "hog")
        times.append((time.perf_counter() - start) * 1000.0)
        height, width = image.bgr.shape[:2]
        found.append([scale_up(box, factor, width, height) for box in small_boxes])
    widths = sorted({rgb.shape[1] for rgb, _ in prepared})
    return times, found, widths


def iou(a: Box, b: Box) -> float:
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area = lambda box: max(0, box[1] - box[3]) * max(0, box[2] - box[0])  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def _centre_inside(detected: Box, label: Box) -> bool:
    cy, cx = (detected[0] + detected[2]) / 2, (detected[1] + detected[3]) / 2
    return label[0] <= cy <= label[2] and label[3] <= cx <= label[1]


def match(detected: list[Box], labels: list[Box]) -> int:
    """Number of one-to-one (detection, label) pairs that satisfy the rule, best IoU first."""
    pairs = sorted(
        (
            (iou(found, label), i, j)
            for i, found in enumerate(detected)
            for j, label in enumerate(labels)
            if iou(found, label) >= IOU_THRESHOLD or _centre_inside(found, label)
        ),
        reverse=True,
    )
    used_d, used_l = set(), set()
    for _, i, j in pairs:
        if i not in used_d and j not in used_l:
            used_d.add(i)
            used_l.add(j)
    return len(used_d)


def summarise(kind: str, images: list[Image], times: list[float], found: list[list[Box]], widths: list[int]) -> dict:
    result: dict = {
        "images": len(images),
        "detect_width_px": widths[0] if len(widths) == 1 else [widths[0], widths[-1]],
        "median_ms": round(statistics.median(times), 2),
        "mean_ms": round(statistics.fmean(times), 2),
        "boxes": sum(len(boxes) for boxes in found),
    }
    if kind == "video":
        result["frames_with_face"] = sum(1 for boxes in found if boxes)
        face_widths = [b[1] - b[3] for boxes in found for b in boxes]
        result["smallest_face_px"] = min(face_widths) if face_widths else None
        result["_frames"] = [bool(boxes) for boxes in found]
    elif kind == "annotated":
        labels = sum(len(image.labels) for image in images)
        hits = sum(match(boxes, image.labels) for boxes, image in zip(found, images))
        result.update(
            labels=labels,
            found=hits,
            recall=round(hits / labels, 3) if labels else None,
            precision=round(hits / result["boxes"], 3) if result["boxes"] else None,
        )
    else:
        result["images_with_false_boxes"] = sum(1 for boxes in found if boxes)
    return result


def describe(kind: str, r: dict) -> str:
    if kind == "video":
        text = f"frames with face {r['frames_with_face']}/{r['images']}, boxes {r['boxes']}"
        if "extra_frames_vs_u0" in r:
            text += f", +{r['extra_frames_vs_u0']}/-{r['lost_frames_vs_u0']} frames vs u0"
        return text
    if kind == "annotated":
        precision = "n/a" if r["precision"] is None else f"{r['precision']:.2f}"
        return f"recall {r['found']}/{r['labels']} = {r['recall']:.2f}, precision {precision} ({r['boxes']} boxes)"
    return f"false boxes {r['boxes']} in {r['images_with_false_boxes']}/{r['images']} images"


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 15th video frame instead of every 3rd (smoke run)")
    parser.add_argument("--json-only", action="store_true", help="print only the final 'JSON {...}' line")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.json_only else (lambda *a, **k: print(*a, **k, flush=True))
    live = not args.json_only and sys.stderr.isatty()

    def progress(text: str) -> None:
        if live:
            print(f"\r  {text:<40}\r", end="", file=sys.stderr, flush=True)

    missing = [p for p in (DATA, CLIP, ANNOTATED, NO_FACE) if not p.exists()]
    if missing:
        print(
            f"detect_upsample: skipped, test data not found: {missing[0]} "
            f"(expected ../shared/data next to the repository)"
        )
        return 0
    try:
        facelib.load()
    except facelib.FaceLibraryError as error:
        print(f"detect_upsample: {error}", file=sys.stderr)
        return 1

    every = 15 if args.quick else 3
    frames = read_clip(every)
    datasets = {
        "video640": ("video", video_dataset(frames, None)),
        "video720p": ("video", video_dataset(frames, 1280)),
        "annotated": ("annotated", annotated_dataset()),
        "noface": ("noface", no_face_dataset()),
    }
    del frames
    say(f"data: {DATA}  frames: 1 in {every} ({len(datasets['video640'][1])})  scale {SCALE}  detector hog")

    results: dict[str, dict[str, dict]] = {}
    for config in CONFIGS:
        results[config.name] = {}
        for name, (kind, images) in datasets.items():
            progress(f"{config.name:<7} {name:<10} ...")
            times, found, widths = detect_all(images, config)
            results[config.name][name] = summarise(kind, images, times, found, widths)

    # Per-frame comparison with upsample 0: frames this config finds that u0 does not, and vice versa.
    for name, (kind, _) in datasets.items():
        if kind != "video":
            continue
        base = results["u0"][name]["_frames"]
        for config in CONFIGS:
            r = results[config.name][name]
            r["extra_frames_vs_u0"] = sum(1 for a, b in zip(r["_frames"], base) if a and not b)
            r["lost_frames_vs_u0"] = sum(1 for a, b in zip(r["_frames"], base) if b and not a)
    for per_config in results.values():
        for r in per_config.values():
            r.pop("_frames", None)

    header = ("config", "upsample", "min_w", "dataset", "n", "det_px", "median_ms", "mean_ms", "x_u0", "result")
    rows = []
    for config in CONFIGS:
        for name, (kind, _) in datasets.items():
            r = results[config.name][name]
            px = r["detect_width_px"]
            rows.append(
                (
                    config.name,
                    str(config.upsample),
                    str(config.min_detect_width),
                    name,
                    str(r["images"]),
                    str(px) if isinstance(px, int) else f"{px[0]}-{px[1]}",
                    f"{r['median_ms']:.1f}",
                    f"{r['mean_ms']:.1f}",
                    f"{r['median_ms'] / results['u0'][name]['median_ms']:.1f}",
                    describe(kind, r),
                )
            )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    progress("")
    say("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for i, row in enumerate(rows):
        if i and i % len(datasets) == 0:
            say()
        say(
            "  ".join(
                cell.rjust(w) if cell.replace(".", "").replace("-", "").isdigit() else cell.ljust(w)
                for cell, w in zip(row, widths)
            ).rstrip()
        )
    say(
        f"x_u0 = median ms / median ms of u0 on the same dataset. Annotated: a label is found when a "
        f"detection has IoU >= {IOU_THRESHOLD} with it or its centre inside it (one-to-one)."
    )

    print(
        "JSON "
        + json.dumps(
            {
                "bench": "detect_upsample",
                "data": str(DATA),
                "quick": args.quick,
                "frame_every": every,
                "scale": SCALE,
                "detector": "hog",
                "iou_threshold": IOU_THRESHOLD,
                "configs": {c.name: {"upsample": c.upsample, "min_detect_width": c.min_detect_width} for c in CONFIGS},
                "results": results,
            },
            separators=(",", ":"),
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
