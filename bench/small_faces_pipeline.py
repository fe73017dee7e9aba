"""How many frames of a 1080p camera two workers analyse per second, with and without the small-face search.

Why it exists: the small-face search costs CPU per analysed frame
(bench/small_faces.py measures how much, in one process); what a user sees is
the rate at which a camera's frames are analysed. This starts the real
pipeline (``python -m services.launch`` through tests.harness, two workers,
loopback), plays a 30 fps 1920x1080 scene of moving faces (bench/scene.py) as
one camera, and counts the results on the bus over a window, once with
``MIN_FACE_PX=0`` (today's detection) and once with the default. Both runs
happen one after the other in this process, so the ratio compares like with like.

    .venv/bin/python bench/small_faces_pipeline.py            # 30 s windows
    .venv/bin/python bench/small_faces_pipeline.py --quick    # 12 s windows
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import msgpack  # noqa: E402
import zmq  # noqa: E402

from bench.scene import SceneDataMissing, default_data_dir, make_scene  # noqa: E402
from tests.harness import Pipeline, wait_for  # noqa: E402

RESULTS = REPO / "bench" / "results" / "small_faces_pipeline.json"
CAMERA = "street"
FPS = 30.0
SCENE_SECONDS = 10.0
WORKERS = 2


def analysed_per_second(pipeline: Pipeline, window_s: float) -> dict[str, float]:
    """Results per second of the camera over ``window_s``, after the first result, and their mean age."""
    socket = zmq.Context.instance().socket(zmq.SUB)
    socket.setsockopt(zmq.SUBSCRIBE, f"faces.{CAMERA}".encode())
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(f"tcp://127.0.0.1:{pipeline.bus_port + 1}")
    try:
        wait_for(lambda: socket.poll(100), 120, "the first result")
        socket.recv_multipart()
        started, count, ages, faces = time.monotonic(), 0, [], 0
        while time.monotonic() - started < window_s:
            if socket.poll(100):
                result = msgpack.unpackb(socket.recv_multipart()[1])
                count += 1
                ages.append(result["published_ts"] - result["capture_ts"])
                faces += len(result["faces"])
        elapsed = time.monotonic() - started
    finally:
        socket.close()
    return {
        "analysed_per_s": round(count / elapsed, 2),
        "result_age_ms_mean": round(1000 * sum(ages) / max(1, len(ages)), 1),
        "faces_per_result": round(faces / max(1, count), 2),
    }


def run(label: str, clip: Path, faces: Path, workdir: Path, window_s: float, min_face_px: int) -> dict[str, float]:
    """One pipeline run with the given MIN_FACE_PX; its figures."""
    (workdir / label).mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline.configure(
        workdir / label,
        source=f"{CAMERA}={clip}",
        faces_dir=str(faces),
        workers=str(WORKERS),
        min_face_px=str(min_face_px),
    )
    try:
        pipeline.start()
        pipeline.wait_for_workers(WORKERS, timeout_s=120)
        figures = analysed_per_second(pipeline, window_s)
        pipeline.stop()
    finally:
        pipeline.kill_leftovers()  # a failed run must leave no process behind
    print(f"  {label}: {figures}", flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="12 s windows instead of 30 s")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    args = parser.parse_args()
    window_s = 12.0 if args.quick else 30.0
    with tempfile.TemporaryDirectory(prefix="facestream-small-pipeline-") as scratch:
        workdir = Path(scratch)
        try:
            scene = make_scene(args.data, 1920, 1080, round(SCENE_SECONDS * FPS), FPS, seed=5)
        except SceneDataMissing as error:
            print(f"small_faces_pipeline: {error}; nothing measured")
            return 0
        print("writing a 30 fps 1080p scene ...", flush=True)
        clip = scene.write_video(workdir / "street.mp4")
        faces = scene.write_faces_dir(workdir / "faces")
        load_before = os.getloadavg()[0]
        today = run("today", clip, faces, workdir, window_s, min_face_px=0)
        small = run("small", clip, faces, workdir, window_s, min_face_px=40)
    result = {
        "bench": "small_faces_pipeline",
        "window_s": window_s,
        "workers": WORKERS,
        "source": "1920x1080 at 30 fps",
        "load_average_before": round(load_before, 2),
        "today": today,
        "small": small,
        "analysed_small_vs_today": round(small["analysed_per_s"] / max(0.01, today["analysed_per_s"]), 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"1080p camera, {WORKERS} workers: {small['analysed_per_s']} frames analysed/s with the small-face search, "
        f"{today['analysed_per_s']} without ({result['analysed_small_vs_today']}x)"
    )
    print("JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
