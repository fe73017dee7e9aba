"""What drawing the boxes and names costs the web per frame: labels in any script against OpenCV's ASCII text.

Why it exists: names on the stream are drawn by Pillow in a font that has
their letters (services/web/label_fonts.py), where they used to be OpenCV's
Hershey text, which turns every non-ASCII letter into "?". Each frame that
has faces is decoded, drawn on and encoded again once per kind of view
(services/web/state.py), so the drawing must stay a small part of that.

For frames of the hamilton clip's size and larger (640x360, 1280x720,
1920x1080) with 1, 5 and 20 named faces, it times ``overlay.render`` (decode,
draw, encode: what a viewer costs the web per new frame) in this process,
both ways, alternating runs so that machine load hits both alike:

- **baseline**: OpenCV's ``putText`` labels, as drawn before (kept here, in the bench);
- **facestream**: ``overlay.draw_faces``, labels cached per text (the confidence changes a
  few times a second; every change draws a new label once).

The names mix scripts (Latin, Chinese, Devanagari, Arabic, Cyrillic) and the
confidences change every frame, the worst case for the label cache.

    .venv/bin/python bench/overlay.py            # 200 frames per case
    .venv/bin/python bench/overlay.py --quick    # 40 frames per case
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit_json, fmt, load_average, table  # noqa: E402
from services.web import label_fonts, overlay  # noqa: E402
from shared.boxes import to_pixels  # noqa: E402
from shared.bus import schema  # noqa: E402

NAMES = ["Ada Lovelace", "王芳", "अनिल कुमार", "محمد", "Зоя", "Unknown"]
SIZES = [(640, 360), (1280, 720), (1920, 1080)]
FACES = [1, 5, 20]


def opencv_labels(frame: np.ndarray, faces: list[schema.Face]) -> np.ndarray:
    """The labels as OpenCV drew them before: Hershey text, ASCII only."""
    height, width = frame.shape[:2]
    thickness = max(1, round(height / 300))
    font_scale = max(0.4, height / 720)
    for face in faces:
        top, right, bottom, left = to_pixels(face.box, width, height)
        colour = overlay.UNKNOWN_COLOUR if face.name == schema.UNKNOWN else overlay.KNOWN_COLOUR
        cv2.rectangle(frame, (left, top), (right, bottom), colour, thickness)
        text = overlay.label_text(face)
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        label_top = max(0, top - text_h - baseline - 4)
        cv2.rectangle(frame, (left, label_top), (left + text_w + 6, label_top + text_h + baseline + 4), colour, -1)
        cv2.putText(
            frame, text, (left + 3, label_top + text_h + 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255),
            thickness, cv2.LINE_AA,
        )  # fmt: skip
    return frame


def scene(width: int, height: int) -> bytes:
    """A textured frame (noise compresses and decodes like a camera's picture, a flat grey does not)."""
    rng = np.random.default_rng(7)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (9, 9), 3)
    return cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


def faces_for(count: int, frame_number: int) -> list[schema.Face]:
    """``count`` faces on a grid, names cycling through the scripts, confidences changing every frame."""
    columns = 5
    faces = []
    for index in range(count):
        x, y = (index % columns) / columns + 0.02, (index // columns) / 4 + 0.08
        confidence = 60.0 + (frame_number * 7 + index * 13) % 40
        faces.append(schema.Face(box=(x, y, 0.12, 0.15), name=NAMES[index % len(NAMES)], confidence=confidence))
    return faces


def time_renders(jpeg: bytes, count: int, frames: int, draw) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds per overlay.render with ``draw`` as its label drawer."""
    original = overlay.draw_faces
    overlay.draw_faces = draw
    try:
        spent = []
        for frame_number in range(frames):
            faces = faces_for(count, frame_number)
            started = time.perf_counter()
            overlay.render(jpeg, faces)
            spent.append((time.perf_counter() - started) * 1000)
        return spent
    finally:
        overlay.draw_faces = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 frames per case instead of 200")
    args = parser.parse_args()
    frames = 40 if args.quick else 200
    label_fonts.catalog()
    print(f"load average before: {load_average()}; {frames} frames per case, alternating baseline and facestream")
    rows = []
    figures = []
    for (width, height), count in itertools.product(SIZES, FACES):
        jpeg = scene(width, height)
        baseline: list[float] = []
        ours: list[float] = []
        for _ in range(4):  # alternate, so a busy moment of the machine falls on both
            baseline += time_renders(jpeg, count, frames // 4, opencv_labels)
            ours += time_renders(jpeg, count, frames // 4, overlay.draw_faces)
        base_ms, our_ms = statistics.median(baseline), statistics.median(ours)
        figures.append({"frame": f"{width}x{height}", "faces": count, "baseline_ms": base_ms, "ms": our_ms})
        rows.append([f"{width}x{height}", count, fmt(base_ms, 2), fmt(our_ms, 2), fmt(our_ms / base_ms, 2, "x")])
    print(table(["frame", "faces", "baseline ms (p50)", "facestream ms (p50)", "ratio"], rows))
    print(f"labels drawn and cached: {label_fonts.label_image.cache_info().currsize}; load after: {load_average()}")
    emit_json({"render_p50": figures, "load_after": load_average()})


if __name__ == "__main__":
    main()
