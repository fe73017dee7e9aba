"""The seed design, reproduced faithfully in one process, so the real pipeline has something to beat.

Why it exists: facestream replaced a typical student Flask script. To say how
much better (or not) the services do, ``bench/pipeline.py`` runs this script
on the same clip, on the same machine, in the same run, and measures it with
the same MJPEG client. It is what the seed did, on purpose, warts included:

* a **camera thread** reads the video file, looped and paced at its own fps
  (against a schedule, as the capture service does, so both see the same
  source rate), and puts every frame on an unbounded ``queue.Queue``;
* a **processing thread** takes every frame from that queue and, on every
  other frame, shrinks it with ``cv2.resize(fx=0.25, fy=0.25)`` and runs
  ``face_recognition.face_locations`` + ``face_encodings`` on the small image,
  then ``compare_faces`` / ``face_distance`` at tolerance 0.6 against the known
  faces; the frame in between reuses the last boxes and names. It puts each
  frame with its boxes on every viewer's own unbounded ``queue.Queue``;
* an **MJPEG generator** per viewer takes its frames in order, redraws the
  whole frame (boxes, a filled label, the name in FONT_HERSHEY_DUPLEX, as the
  face_recognition web-cam example does) and re-encodes it to JPEG (OpenCV's
  default quality, 95) for that viewer alone;
* served by **Flask's development server** (``threaded=True``).

Only instrumentation was added: each part carries the same ``X-Frame-Id`` and
``X-Capture-Time`` headers as facestream's ``/stream/<camera>.mjpg`` (so one
client measures both), ``GET /stats`` returns counters, queue lengths, CPU
seconds per thread kind and every analysed frame, and ``--seconds`` stops it.
Nothing is written to disk. Known faces: the first face of every photo in
``--faces`` (``<Person>/*.jpg`` or ``<Person>.jpg``), as the student did with
``load_image_file`` + ``face_encodings(image)[0]``.

Run from the repository root (defaults: the hamilton clip and its reference photos)::

    .venv/bin/python bench/seed_baseline.py --port 8099 --seconds 60
    # then open http://127.0.0.1:8099/ or read http://127.0.0.1:8099/video_feed
    .venv/bin/python bench/seed_baseline.py --quick      # 10 s, measures itself with one viewer

Run alone it prints a small table and a final ``JSON {...}`` line with its own
counters (and, given ``--quick`` or ``--self-view``, one viewer's latency and
fps); ``bench/pipeline.py`` starts it as a subprocess with
``--video --faces --port --seconds``. Exits 0 with a message when
``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

TOLERANCE = 0.6
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


class Seed:
    """The whole seed application: its threads, its queues, and (added) its counters."""

    def __init__(self, video: str, faces: Path, jpeg_quality: int | None) -> None:
        import cv2
        import face_recognition

        self.cv2 = cv2
        self.fr = face_recognition
        self.video = video
        self.jpeg_quality = jpeg_quality
        self.known_encodings: list = []
        self.known_names: list[str] = []
        self.frames: queue.Queue = queue.Queue()  # camera -> processing, unbounded
        self.viewer_queues: list[queue.Queue] = []  # processing -> each viewer's generator, unbounded
        self.lock = threading.Lock()
        self.fps = 30.0
        self.started = time.time()
        self.counts = {"captured": 0, "processed": 0, "analysed": 0, "encoded_jpegs": 0, "viewers_total": 0}
        self.cpu = {"camera": 0.0, "processing": 0.0, "viewers": 0.0}
        self.analysed: list[list] = []  # [frame_id, capture_ts, done_ts, [names]]
        self.load_known_faces(faces)

    # -- the student's code, with counters ---------------------------------------------------

    def load_known_faces(self, faces: Path) -> None:
        for entry in sorted(faces.iterdir()):
            photos = sorted(entry.iterdir()) if entry.is_dir() else [entry]
            for photo in photos:
                if photo.suffix.lower() not in PHOTO_SUFFIXES:
                    continue
                image = self.fr.load_image_file(str(photo))
                encodings = self.fr.face_encodings(image)
                if encodings:
                    self.known_encodings.append(encodings[0])
                    self.known_names.append(entry.name if entry.is_dir() else entry.stem)

    def camera_thread(self) -> None:
        cv2 = self.cv2
        video = cv2.VideoCapture(self.video)
        self.fps = video.get(cv2.CAP_PROP_FPS) or 30.0
        frame_id = 0
        next_due = time.monotonic()
        while True:
            ok, frame = video.read()
            if not ok:
                video.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            next_due += 1.0 / self.fps
            delay = next_due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.frames.put((frame_id, time.time(), frame))
            frame_id += 1
            self.counts["captured"] = frame_id
            self.cpu["camera"] = time.thread_time()

    def processing_thread(self) -> None:
        cv2, fr = self.cv2, self.fr
        import numpy as np

        process_this_frame = True
        face_locations: list = []
        face_names: list[str] = []
        while True:
            frame_id, capture_ts, frame = self.frames.get()
            if process_this_frame:
                small_frame = cv2.resize(frame, (0, 0), fx=0.25, fy=0.25)
                rgb_small_frame = cv2.cvtColor(small_frame, cv2.COLOR_BGR2RGB)
                face_locations = fr.face_locations(rgb_small_frame)
                face_encodings = fr.face_encodings(rgb_small_frame, face_locations)
                face_names = []
                for face_encoding in face_encodings:
                    matches = fr.compare_faces(self.known_encodings, face_encoding, tolerance=TOLERANCE)
                    name = "Unknown"
                    face_distances = fr.face_distance(self.known_encodings, face_encoding)
                    if len(face_distances):
                        best_match_index = int(np.argmin(face_distances))
                        if matches[best_match_index]:
                            name = self.known_names[best_match_index]
                    face_names.append(name)
                self.counts["analysed"] += 1
                self.analysed.append([frame_id, capture_ts, time.time(), list(face_names)])
            process_this_frame = not process_this_frame
            with self.lock:
                targets = list(self.viewer_queues)
            for target in targets:
                target.put((frame_id, capture_ts, frame, list(face_locations), list(face_names)))
            self.counts["processed"] += 1
            self.cpu["processing"] = time.thread_time()

    def generate(self):
        cv2 = self.cv2
        mine: queue.Queue = queue.Queue()
        with self.lock:
            self.viewer_queues.append(mine)
            self.counts["viewers_total"] += 1
        cpu_mark = time.thread_time()
        params = [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality] if self.jpeg_quality else []
        try:
            while True:
                frame_id, capture_ts, frame, face_locations, face_names = mine.get()
                frame = frame.copy()
                for (top, right, bottom, left), name in zip(face_locations, face_names):
                    top *= 4
                    right *= 4
                    bottom *= 4
                    left *= 4
                    cv2.rectangle(frame, (left, top), (right, bottom), (0, 0, 255), 2)
                    cv2.rectangle(frame, (left, bottom - 35), (right, bottom), (0, 0, 255), cv2.FILLED)
                    cv2.putText(frame, name, (left + 6, bottom - 6), cv2.FONT_HERSHEY_DUPLEX, 1.0, (255, 255, 255), 1)
                ok, jpeg = cv2.imencode(".jpg", frame, params)
                body = jpeg.tobytes()
                now_cpu = time.thread_time()
                with self.lock:
                    self.counts["encoded_jpegs"] += 1
                    self.cpu["viewers"] += now_cpu - cpu_mark
                cpu_mark = now_cpu
                yield (
                    b"--frame\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(body)}\r\nX-Frame-Id: {frame_id}\r\n"
                    f"X-Capture-Time: {capture_ts:.6f}\r\n\r\n".encode()
                    + body
                    + b"\r\n"
                )
        finally:
            with self.lock:
                self.viewer_queues.remove(mine)

    # -- instrumentation ----------------------------------------------------------------------

    def stats(self) -> dict:
        with self.lock:
            queues = [q.qsize() for q in self.viewer_queues]
            cpu = dict(self.cpu)
            counts = dict(self.counts)
        return {
            "pid": os.getpid(),
            "fps": self.fps,
            "uptime_s": time.time() - self.started,
            "known_faces": len(self.known_names),
            "counts": counts,
            "viewers": len(queues),
            "frames_queue": self.frames.qsize(),
            "viewer_queue_max": max(queues, default=0),
            "cpu_s": cpu,
            "process_cpu_s": time.process_time(),
            "analysed": list(self.analysed),
        }


def create_app(seed: Seed):
    from flask import Flask, Response, jsonify

    app = Flask(__name__)

    @app.route("/")
    def index() -> str:
        return '<html><body><h1>Video</h1><img src="/video_feed"></body></html>'

    @app.route("/video_feed")
    def video_feed() -> Response:
        return Response(seed.generate(), mimetype="multipart/x-mixed-replace; boundary=frame")

    @app.route("/stats")
    def stats() -> Response:
        return jsonify(seed.stats())

    return app


def serve(args: argparse.Namespace) -> int:
    """Start the seed app and serve until --seconds pass or SIGTERM/SIGINT; print its counters then."""
    import logging

    seed = Seed(str(args.video), args.faces, args.jpeg_quality)
    app = create_app(seed)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def finish(*_: object) -> None:
        report(seed, args)
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    if args.seconds > 0:
        threading.Timer(args.seconds, finish).start()
    seed.started = time.time()
    threading.Thread(target=seed.camera_thread, daemon=True, name="camera").start()
    threading.Thread(target=seed.processing_thread, daemon=True, name="processing").start()
    if args.self_view:
        threading.Thread(target=self_view, args=(seed, args), daemon=True).start()
    print(f"seed: ready on http://{args.host}:{args.port}/video_feed ({len(seed.known_names)} known faces)", flush=True)
    app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
    return 0


def self_view(seed: Seed, args: argparse.Namespace) -> None:
    """--quick/--self-view: watch our own stream with the bench's client, for a stand-alone smoke run."""
    time.sleep(1.0)
    seconds = max(1.0, args.seconds - 2.0)
    fleet = common.run_viewers(f"http://{args.host}:{args.port}/video_feed", 1, seconds)
    seed.self_view = fleet  # type: ignore[attr-defined]


def report(seed: Seed, args: argparse.Namespace) -> None:
    stats = seed.stats()
    counts, uptime = stats["counts"], stats["uptime_s"]
    analysed = stats.pop("analysed")
    with_face = [row for row in analysed if row[3]]
    named = [row for row in with_face if common.KNOWN in row[3]]
    rows = [
        ("captured", counts["captured"], f"{counts['captured'] / uptime:.1f}/s"),
        ("processed", counts["processed"], f"{counts['processed'] / uptime:.1f}/s"),
        ("analysed", counts["analysed"], f"{counts['analysed'] / uptime:.1f}/s"),
        ("jpegs encoded", counts["encoded_jpegs"], f"{counts['encoded_jpegs'] / uptime:.1f}/s"),
        ("frames queue", stats["frames_queue"], "frames waiting for processing"),
        ("known face named", f"{len(named)}/{len(with_face)}", "analysed frames with a face"),
    ]
    rows += [(f"cpu {name}", f"{value:.1f}s", f"{value / uptime:.2f} cores") for name, value in stats["cpu_s"].items()]
    stats["analysed_fps"] = counts["analysed"] / uptime
    stats["named_fraction"] = len(named) / len(with_face) if with_face else None
    stats["rss_mb"] = common.rss_mb(os.getpid())
    fleet = getattr(seed, "self_view", None)
    if fleet is not None:
        window = common.Window(fleet["started"] + 1.0, fleet["ended"])
        view = common.stream_figures(fleet, window, seed.fps)
        stats["self_view"] = view
        latency = view["latency_ms"]
        rows.append(
            (
                "latency p50/p95",
                f"{common.fmt(latency['p50'])}/{common.fmt(latency['p95'])} ms",
                f"first third p50 {common.fmt(latency['first_third_p50'])}, "
                f"last third p50 {common.fmt(latency['last_third_p50'])} ms",
            )
        )
        rows.append(
            (
                "viewer fps",
                common.fmt(view["fps_per_viewer"]["median"]),
                f"{common.fmt(view['pct_of_source_fps']['median'])}% of source",
            )
        )
    print(f"seed baseline after {uptime:.1f} s (video {args.video}):")
    print(common.table(("figure", "value", "note"), rows))
    common.emit_json({"bench": "seed_baseline", **stats})
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=common.CLIP, help="video file (default: the hamilton clip)")
    parser.add_argument("--faces", type=Path, default=common.REFERENCE, help="known faces folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: until Ctrl-C)")
    parser.add_argument("--jpeg-quality", type=int, default=None, help="JPEG quality (default: OpenCV's, 95)")
    parser.add_argument("--self-view", action="store_true", help="watch its own stream with one viewer and report it")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 s, watching itself")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = args.seconds or 10.0
        args.self_view = True
    if common.missing_data("seed_baseline", args.video, args.faces):
        return 0
    if args.port == 0:
        from tests.harness import free_port_block

        args.port = free_port_block(1)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
