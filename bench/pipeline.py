"""Real time, measured: the whole facestream pipeline against the seed design, on a 720p clip.

Why it exists: the README promises a live stream whose latency never grows,
boxes that follow the picture, a worker pool that scales, and a web service
that serves many viewers from one render per frame. This script measures each
promise on the real services (started the way a user starts them, through
``tests.harness.Pipeline`` = ``python -m services.launch``) and, in the same
run, on ``bench/seed_baseline.py`` (the single-process Flask design it
replaced), with the same MJPEG client, so the two can be compared as ratios
on one noisy machine.

What it does, in order (nothing runs at the same time as anything else):

1. makes ``hamilton_720p.mp4``: every frame of ``video_hamilton/short_hamilton_clip.mp4``
   resized to 1280x720 (``cv2.resize``, written with mp4v at the clip's 29.97 fps) in a temp folder;
2. **direct**: ``face_recognition`` called in a loop, in this process, on those frames
   (JPEG quality 80 round trip first, as capture publishes them; decoding is not timed): the
   frame shrunk by ``shared.faces.regions.detection_scale`` (SCALE 0.25, MIN_DETECT_WIDTH 320)
   with ``INTER_AREA``, ``face_locations`` (HOG, UPSAMPLE 1), ``face_encodings`` on the
   full-resolution frame at the scaled-up boxes, ``face_distance`` to the reference photos:
   the most a worker could do per second on this machine;
3. **ours**: the services with their defaults (WORKERS=2, EVERY_N=2), SOURCE=that file,
   FACES_DIR=video_hamilton/reference; 1, 10, then 50 concurrent viewers of
   ``/stream/hamilton.mjpg``, ``--seconds`` each;
4. **capacity**: the services with EVERY_N=1 and the clip as CAPACITY_CAMERAS cameras at once
   (more due frames than workers can take: one camera's 30 fps is less than a worker can
   analyse once faces are tracked), no viewer, WORKERS=1 then WORKERS=2, ``--seconds`` each:
   frames analysed per second over all cameras;
5. **seed**: ``bench/seed_baseline.py`` on the same file, a fresh process per phase,
   1, 10, then 50 viewers of ``/video_feed``, ``--seconds`` each. Its queues are unbounded, so
   a phase is cut short (and says so) if its RSS passes ``--seed-rss-limit-mb``.

Figures (see bench/README.md for their meaning and the targets):

* stream latency: client receive time minus the part's ``X-Capture-Time``, p50/p95 over the
  phase, and p50/p95 of its first and last thirds (does it grow?);
* frames per viewer: parts received per second by each viewer / the clip's fps (min over viewers);
* box age: for each analysed frame with a face, the time from its capture until the first part
  the viewer received after the result was available (ours: our own subscriber's arrival time
  on the same XPUB socket the web reads; seed: when its processing thread finished) whose frame
  is not older than the analysed one; error up to one frame interval;
* analysed frames/s: ``faces.hamilton`` results on the bus (BUS_PORT+1) per second (seed: its
  own count); worker timings from the results;
* named fraction: analysed frames naming Lin_Manuel_Miranda / analysed frames with any face;
  also "recall vs direct": among frames at clip positions where the direct loop names him;
* CPU: utime+stime from ``/proc/<pid>/stat`` of every process (found by the harness's marker;
  the web is the ``services.web`` gunicorn master + its forked worker), in cores; per viewer =
  web cores / viewers; RSS from ``/proc/<pid>/status`` at start (after warm-up) and end.

Run from the repository root (about 11 minutes by default; the machine has 2 cores, so close
other work, and read ratios rather than absolute figures)::

    .venv/bin/python bench/pipeline.py                 # --seconds 60 per phase
    .venv/bin/python bench/pipeline.py --quick         # 10 s per phase, a smoke run (~3 min)
    .venv/bin/python bench/pipeline.py --seconds 300 --parts ours --viewers 1   # 5 min flatness

Prints aligned tables and a final ``JSON {...}`` line with every figure. Writes only in a
temp folder (removed at the end unless ``--keep``). Exits 0 with a message when
``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402
from bench.common import Window, fmt  # noqa: E402

CAMERA = "hamilton"
CAPACITY_CAMERAS = 3
"""Cameras showing the clip in the capacity phase: 90 due frames/s, more than two workers analyse here."""
WIDTH, HEIGHT = 1280, 720
SCALE, MIN_DETECT_WIDTH, UPSAMPLE, TOLERANCE = 0.25, 320, 1, 0.6
JPEG_QUALITY = 80

TARGETS = {
    "latency_p50_ms": 40.0,
    "latency_p95_ms": 80.0,
    "latency_drift_ms": 10.0,
    "viewer_pct_of_source": 95.0,
    "box_age_p50_ms": 100.0,
    "worker_vs_direct": 0.90,
    "workers2_vs_workers1": 1.5,
    "ours_vs_seed_analysed": 2.0,
    "named_fraction": 0.95,
}


def say(*args: object) -> None:
    print(*args, flush=True)


# --------------------------------------------------------------------------- the clip


def make_clip(source: Path, target: Path) -> tuple[float, int]:
    """Write the clip resized to 1280x720 (mp4v); its fps and frame count."""
    import cv2

    video = cv2.VideoCapture(str(source))
    fps = video.get(cv2.CAP_PROP_FPS) or 30.0
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    count = 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR))
        count += 1
    writer.release()
    video.release()
    check = cv2.VideoCapture(str(target))
    readable = 0
    while check.read()[0]:
        readable += 1
    check.release()
    if readable != count:
        raise RuntimeError(f"{target}: wrote {count} frames, read back {readable}")
    return fps, count


# --------------------------------------------------------------------------- direct reference


def direct_reference(clip: Path, workdir: Path, every: int) -> dict:
    """face_recognition in a loop on the clip's frames, the analyzer's way, one process, no transport."""
    import cv2
    import numpy as np

    from shared.faces import facelib
    from shared.faces.detect import find_faces
    from shared.faces.gallery import load_gallery
    from shared.faces.regions import detection_scale

    fr = facelib.load()
    gallery = load_gallery(common.REFERENCE, workdir / "direct-data", UPSAMPLE)
    known, names = gallery.encodings, list(gallery.names)
    video = cv2.VideoCapture(str(clip))
    frames = []
    position = 0
    while True:
        ok, frame = video.read()
        if not ok:
            break
        if position % every == 0:
            ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            frames.append((position, cv2.imdecode(jpeg, cv2.IMREAD_COLOR)))
        position += 1
    video.release()

    def analyse(frame: np.ndarray) -> list[str]:
        factor = detection_scale(frame.shape[1], SCALE, MIN_DETECT_WIDTH)
        full = find_faces(frame, factor, UPSAMPLE, bgr=True)
        if not full:
            return []
        found = []
        for encoding in fr.face_encodings(np.ascontiguousarray(frame[:, :, ::-1]), known_face_locations=full):
            distances = fr.face_distance(known, encoding)
            best = int(np.argmin(distances)) if len(distances) else -1
            found.append(names[best] if best >= 0 and distances[best] <= TOLERANCE else "Unknown")
        return found

    analyse(frames[0][1])  # warm-up
    per_position: dict[int, list[str]] = {}
    times = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    for position, frame in frames:
        start = time.perf_counter()
        per_position[position] = analyse(frame)
        times.append((time.perf_counter() - start) * 1000.0)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    with_face = [names_ for names_ in per_position.values() if names_]
    return {
        "frames": len(frames),
        "every": every,
        "fps": len(frames) / wall,
        "cpu_cores": cpu / wall,
        "ms_per_frame": {"p50": common.percentile(times, 50), "mean": sum(times) / len(times)},
        "frames_with_face": len(with_face),
        "frames_naming_known": sum(1 for names_ in with_face if common.KNOWN in names_),
        "_positions": per_position,
    }


def worker_niceness() -> int:
    """The niceness the services give inference workers (INFER_NICE), so the direct loop runs on equal terms."""
    from shared.config import Settings

    field = Settings.model_fields.get("infer_nice")
    default = int(field.default) if field is not None and isinstance(field.default, int) else 0
    return int(os.environ.get("INFER_NICE", default))


def run_direct(clip: Path, workdir: Path, every: int) -> dict:
    """The direct loop in a child process at the workers' niceness (others may be using the CPU too)."""
    out = workdir / "direct.json"
    nice = worker_niceness()
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--direct-clip",
            str(clip),
            "--direct-out",
            str(out),
            "--direct-every",
            str(every),
            "--direct-nice",
            str(nice),
        ],
        cwd=REPO,
        check=True,
        timeout=1800,
    )
    result = json.loads(out.read_text())
    result["_positions"] = {int(key): value for key, value in result.pop("positions").items()}
    result["nice"] = nice
    return result


def recall_vs_direct(frames: list[tuple[int, list[str]]], direct: dict | None, frame_count: int) -> dict | None:
    """Among analysed frames at clip positions where the direct loop names the known face, how often we do."""
    if not direct:
        return None
    visible = {position for position, names in direct["_positions"].items() if common.KNOWN in names}
    at_visible = [names for frame_id, names in frames if frame_id % frame_count in visible]
    if not at_visible:
        return {"frames": 0, "fraction": None}
    hits = sum(1 for names in at_visible if common.KNOWN in names)
    return {"frames": len(at_visible), "fraction": hits / len(at_visible)}


# --------------------------------------------------------------------------- measuring phases


def measure_window(seconds: float, guard=None) -> tuple[Window, str | None]:
    """Sleep through a measurement window, calling ``guard`` twice a second (it returns a reason to stop, or None)."""
    start = time.time()
    reason = None
    while time.time() < start + seconds:
        time.sleep(min(0.5, max(0.0, start + seconds - time.time())))
        if guard is not None:
            reason = guard()
            if reason:
                break
    return Window(start, time.time()), reason


class WebLag:
    """Samples how old the web's newest frame is (``/api/cameras`` last_frame_time), to tell where a delay builds:

    before the web (the bus, the web's bus thread) when this grows, after it (HTTP, socket buffers) when not.
    """

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/api/cameras"
        self.samples: list[float] = []

    def __call__(self) -> None:
        sent = time.time()
        try:
            cameras = get_json(self.url, 5.0)["cameras"]
        except (OSError, ValueError, KeyError):
            return None
        received = time.time()
        for camera in cameras:
            if camera["id"] == CAMERA and camera.get("last_frame_time"):
                self.samples.append(((sent + received) / 2 - camera["last_frame_time"]) * 1000.0)
        return None

    def figures(self) -> dict:
        return {
            "samples": len(self.samples),
            "p50": common.percentile(self.samples, 50),
            "p95": common.percentile(self.samples, 95),
            "max": max(self.samples, default=None),
        }


def viewer_phase(
    url: str,
    count: int,
    seconds: float,
    warmup: float,
    workdir: Path,
    fps: float,
    cpu_pids: dict[str, int],
    guard=None,
    before_window=None,
    after_window=None,
) -> dict:
    """``count`` viewers for warm-up + ``seconds``; stream figures over the window, CPU per process."""
    fleet = common.ViewerFleet(url, count, warmup + seconds + 1.0, workdir)
    time.sleep(warmup)
    extra_before = before_window() if before_window else None
    cpu_before = common.cpu_snapshot(cpu_pids)
    window, stopped = measure_window(seconds, guard)
    cpu_after = common.cpu_snapshot(cpu_pids)
    extra_after = after_window() if after_window else None
    if stopped and fleet.process is not None:
        time.sleep(0.5)
    data = fleet.wait()
    figures = common.stream_figures(data, window, fps)
    figures["cpu_cores"] = common.cpu_cores(cpu_before, cpu_after, window.seconds)
    figures["stopped_early"] = stopped
    if data.get("cpu_s") is not None and data.get("ended", 0) > data.get("started", 0):
        figures["cpu_cores"]["bench-viewers"] = data["cpu_s"] / (data["ended"] - data["started"])
    figures["_fleet"] = data
    figures["_window"] = window
    figures["_extra"] = (extra_before, extra_after)
    return figures


def box_age_figures(results: list[tuple[float, float]], fleet: dict) -> dict:
    viewers = fleet.get("viewers") or [{"parts": []}]
    ages = common.box_ages(results, viewers[0]["parts"])
    return {
        "results_with_face": len(results),
        "matched": len(ages),
        "p50": common.percentile(ages, 50),
        "p95": common.percentile(ages, 95),
    }


def infer_cores(cores: dict[str, float]) -> float | None:
    values = [value for name, value in cores.items() if name.startswith("infer")]
    return sum(values) if values else None


def web_cores(cores: dict[str, float]) -> float | None:
    values = [value for name, value in cores.items() if name.startswith("web")]
    return sum(values) if values else None


# --------------------------------------------------------------------------- our pipeline


def camera_names(count: int) -> list[str]:
    """CAMERA, then CAMERA2, CAMERA3...: the same clip as several cameras."""
    return [CAMERA] + [f"{CAMERA}{index}" for index in range(2, count + 1)]


def run_ours(
    label: str,
    clip: Path,
    workdir: Path,
    settings: dict,
    viewers: list[int],
    seconds: float,
    warmup: float,
    fps: float,
    frame_count: int,
    direct: dict | None,
    cameras: int = 1,
) -> dict:
    from tests.harness import Pipeline, processes_with_marker, wait_for

    folder = workdir / label
    folder.mkdir()
    source = ",".join(f"{name}={clip}" for name in camera_names(cameras))
    pipeline = Pipeline.configure(
        folder,
        source=source,
        faces_dir=str(common.REFERENCE),
        api_token=common.BENCH_TOKEN,
        max_streams_per_client="1000",  # every simulated viewer comes from 127.0.0.1
        **settings,
    )
    recorder = common.BusRecorder(pipeline.bus_port)
    recorder.start()
    out: dict = {"settings": settings}
    try:
        started = time.time()
        pipeline.start()
        wait_for(lambda: recorder.results(CAMERA), 180, "the first result on the bus", poll_s=0.2)
        out["first_result_after_s"] = time.time() - started
        time.sleep(warmup)
        labels = common.label_processes(processes_with_marker(pipeline.marker))
        out["processes"] = sorted(labels)
        out["rss_mb_start"] = common.rss_snapshot(labels)
        phases: dict[str, dict] = {}
        if not viewers:
            cpu_before = common.cpu_snapshot(labels)
            window, _ = measure_window(seconds)
            cpu_after = common.cpu_snapshot(labels)
            phase = {"window_s": window.seconds, "cpu_cores": common.cpu_cores(cpu_before, cpu_after, window.seconds)}
            results = recorder.results(CAMERA, window)
            phase["analysis"] = common.result_figures(results, window)
            phase["analysis"]["recall_vs_direct"] = recall_vs_direct(
                [(body["frame_id"], [face["name"] for face in body["faces"]]) for _, body in results],
                direct,
                frame_count,
            )
            phase["infer_cores"] = infer_cores(phase["cpu_cores"])
            phase["analysed_fps_all_cameras"] = (
                sum(len(recorder.results(name, window)) for name in camera_names(cameras)) / window.seconds
            )
            phases["0"] = phase
        for count in viewers:
            say(f"  {label}: {count} viewer(s) for {seconds:.0f} s ...")
            lag = WebLag(pipeline.base_url)
            phase = viewer_phase(
                f"{pipeline.base_url}/stream/{CAMERA}.mjpg", count, seconds, warmup, folder, fps, labels, guard=lag
            )
            phase["web_newest_frame_age_ms"] = lag.figures()
            window, fleet = phase.pop("_window"), phase.pop("_fleet")
            phase.pop("_extra")
            results = recorder.results(CAMERA, window)
            phase["bus_frame_latency_ms"] = recorder.frame_latency_ms(CAMERA, window)
            phase["analysis"] = common.result_figures(results, window)
            phase["analysis"]["recall_vs_direct"] = recall_vs_direct(
                [(body["frame_id"], [face["name"] for face in body["faces"]]) for _, body in results],
                direct,
                frame_count,
            )
            # Box age: results whose frames were captured in the window (the viewer kept reading after it).
            with_face = [
                (body["capture_ts"], at)
                for at, body in recorder.results(CAMERA)
                if body["faces"] and window.start <= body["capture_ts"] <= window.end - 1.0
            ]
            phase["box_age_ms"] = box_age_figures(with_face, fleet)
            phase["infer_cores"] = infer_cores(phase["cpu_cores"])
            web = web_cores(phase["cpu_cores"])
            phase["web_cores"] = web
            phase["web_cpu_s_per_viewer_per_s"] = web / count if web is not None else None
            phases[str(count)] = phase
        out["phases"] = phases
        out["rss_mb_end"] = common.rss_snapshot(labels)
        stats = recorder.last_stats()
        if stats:
            out["dispatcher"] = {key: stats.get(key) for key in ("received", "dispatched", "dropped")}
        out["exit_code"] = pipeline.stop()
        wait_for(lambda: not processes_with_marker(pipeline.marker), 15, "every service to exit")
    finally:
        pipeline.kill_leftovers()
        recorder.stop()
    return out


# --------------------------------------------------------------------------- the seed


def get_json(url: str, timeout_s: float = 10.0) -> dict:
    """A JSON answer, asked for with the bench's token (our web needs a credential; the seed ignores it)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {common.BENCH_TOKEN}"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read())


def run_seed(
    clip: Path,
    workdir: Path,
    viewers: list[int],
    seconds: float,
    warmup: float,
    fps: float,
    frame_count: int,
    rss_limit_mb: float,
    direct: dict | None,
) -> dict:
    from tests.harness import free_port_block, wait_for

    out: dict = {"phases": {}}
    for count in viewers:
        say(f"  seed: {count} viewer(s) for {seconds:.0f} s ...")
        port = free_port_block(1)
        base = f"http://127.0.0.1:{port}"
        log = (workdir / f"seed-{count}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "bench" / "seed_baseline.py"),
                "--video",
                str(clip),
                "--faces",
                str(common.REFERENCE),
                "--port",
                str(port),
                "--seconds",
                str(warmup + seconds + 120),
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started = time.time()
            wait_for(lambda base=base: get_json(base + "/stats", 2.0), 180, "the seed to serve /stats", poll_s=0.2)
            # Steady state first: the frames that queued while dlib warmed up must drain (the seed never drops).
            try:
                wait_for(
                    lambda base=base: get_json(base + "/stats")["frames_queue"] <= 2,
                    60,
                    "the seed's queue to drain",
                    poll_s=0.5,
                )
            except AssertionError:
                say("  seed: its frame queue did not drain within 60 s; measuring anyway")
            time.sleep(warmup)
            phase_start = {"ready_after_s": time.time() - started, "rss_mb": common.rss_mb(process.pid)}
            pids = {"seed": process.pid}

            def guard(process: subprocess.Popen = process) -> str | None:
                rss = common.rss_mb(process.pid)
                if rss is None:
                    return "the seed process exited"
                if rss > rss_limit_mb:
                    return f"RSS {rss:.0f} MB passed the {rss_limit_mb:.0f} MB limit"
                return None

            phase = viewer_phase(
                f"{base}/video_feed",
                count,
                seconds,
                warmup,
                workdir,
                fps,
                pids,
                guard,
                before_window=lambda base=base: get_json(base + "/stats"),
                after_window=lambda base=base: get_json(base + "/stats", 30.0),
            )
            window, fleet = phase.pop("_window"), phase.pop("_fleet")
            before, after = phase.pop("_extra")
            phase["rss_mb_start"] = phase_start["rss_mb"]
            phase["rss_mb_end"] = common.rss_mb(process.pid)
            phase["ready_after_s"] = phase_start["ready_after_s"]
            analysed = [row for row in after["analysed"] if window.start <= row[2] <= window.end]
            with_face = [row for row in analysed if row[3]]
            named = [row for row in with_face if common.KNOWN in row[3]]
            phase["analysis"] = {
                "results": len(analysed),
                "analysed_fps": len(analysed) / window.seconds if window.seconds else None,
                "frames_with_face": len(with_face),
                "frames_naming_known": len(named),
                "named_fraction": len(named) / len(with_face) if with_face else None,
                "recall_vs_direct": recall_vs_direct([(row[0], row[3]) for row in analysed], direct, frame_count),
                "result_age_ms_p50": common.percentile([(row[2] - row[1]) * 1000.0 for row in analysed], 50),
            }
            phase["box_age_ms"] = box_age_figures(
                [
                    (row[1], row[2])
                    for row in after["analysed"]
                    if row[3] and window.start <= row[1] <= window.end - 1.0
                ],
                fleet,
            )
            phase["thread_cores"] = {
                name: (after["cpu_s"][name] - before["cpu_s"][name]) / window.seconds for name in after["cpu_s"]
            }
            phase["queues_at_end"] = {"frames": after["frames_queue"], "viewer_max": after["viewer_queue_max"]}
            seed_cores = phase["cpu_cores"].get("seed")
            phase["seed_cores"] = seed_cores
            phase["seed_cpu_s_per_viewer_per_s"] = seed_cores / count if seed_cores is not None else None
            out["phases"][str(count)] = phase
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()
    return out


# --------------------------------------------------------------------------- report


def target_rows(report: dict) -> list[dict]:
    ours = report.get("ours", {}).get("phases", {})
    seed = report.get("seed", {}).get("phases", {})
    capacity = report.get("capacity", {})
    direct = report.get("direct")
    one = ours.get("1")
    rows: list[dict] = []

    def add(name: str, target: str, value, ok, note: str = "") -> None:
        rows.append({"target": name, "wanted": target, "value": value, "met": ok, "note": note})

    if one:
        latency = one["latency_ms"]
        add(
            "stream latency p50",
            f"<= {TARGETS['latency_p50_ms']:.0f} ms",
            latency["p50"],
            latency["p50"] is not None and latency["p50"] <= TARGETS["latency_p50_ms"],
            "ours, 1 viewer",
        )
        add(
            "stream latency p95",
            f"<= {TARGETS['latency_p95_ms']:.0f} ms",
            latency["p95"],
            latency["p95"] is not None and latency["p95"] <= TARGETS["latency_p95_ms"],
            "ours, 1 viewer",
        )
        if latency["first_third_p50"] is not None and latency["last_third_p50"] is not None:
            drift = latency["last_third_p50"] - latency["first_third_p50"]
            add(
                "latency flat (last - first third p50)",
                f"<= {TARGETS['latency_drift_ms']:.0f} ms",
                drift,
                drift <= TARGETS["latency_drift_ms"],
                f"over {report['seconds']:.0f} s, not 5 min" if report["seconds"] < 300 else "",
            )
        box = one["box_age_ms"]["p50"]
        add(
            "box age p50",
            f"<= {TARGETS['box_age_p50_ms']:.0f} ms",
            box,
            box is not None and box <= TARGETS["box_age_p50_ms"],
            "ours, 1 viewer",
        )
    most = ours.get(str(max((int(k) for k in ours), default=0)))
    if most:
        low = most["pct_of_source_fps"]["min"]
        add(
            f"every viewer of {most['viewers']} gets frames",
            f">= {TARGETS['viewer_pct_of_source']:.0f}% of source",
            low,
            low is not None and low >= TARGETS["viewer_pct_of_source"],
            "min over viewers",
        )
    w1 = capacity.get("workers1", {}).get("analysed_fps")
    w2 = capacity.get("workers2", {}).get("analysed_fps")
    if w1 and direct:
        ratio = w1 / direct["fps"]
        add(
            "1 worker vs direct face_recognition",
            f">= {TARGETS['worker_vs_direct']:.2f}x",
            ratio,
            ratio >= TARGETS["worker_vs_direct"],
            f"{w1:.1f} vs {direct['fps']:.1f} frames/s",
        )
        per_cpu = capacity.get("worker_vs_direct_per_cpu_s")
        if per_cpu:
            add(
                "1 worker vs direct, per CPU-second",
                f">= {TARGETS['worker_vs_direct']:.2f}x",
                per_cpu,
                per_cpu >= TARGETS["worker_vs_direct"],
                "frames per CPU-second of infer-00 vs of the direct loop: robust to other load",
            )
    if w1 and w2:
        ratio = w2 / w1
        add(
            "2 workers vs 1",
            f">= {TARGETS['workers2_vs_workers1']:.1f}x",
            ratio,
            ratio >= TARGETS["workers2_vs_workers1"],
            f"{w2:.1f} vs {w1:.1f} frames/s (EVERY_N=1, {CAPACITY_CAMERAS} cameras)",
        )
    seed_one = seed.get("1")
    if seed_one and seed_one["analysis"]["analysed_fps"]:
        seed_fps = seed_one["analysis"]["analysed_fps"]
        if one:
            ratio = one["analysis"]["analysed_fps"] / seed_fps
            add(
                "ours analyses vs seed",
                f">= {TARGETS['ours_vs_seed_analysed']:.0f}x",
                ratio,
                ratio >= TARGETS["ours_vs_seed_analysed"],
                f"{one['analysis']['analysed_fps']:.1f} vs {seed_fps:.1f} frames/s, both default settings, 1 viewer; "
                f"ours analyses {100.0 * one['analysis']['analysed_fps'] / report['clip']['fps']:.1f}% of source "
                f"frames, the seed every other one: 2x is the ceiling",
            )
        best = max([value for value in (w1, w2) if value] or [0.0])
        if best:
            add(
                "ours capacity vs seed",
                "(info)",
                best / seed_fps,
                None,
                f"{best:.1f} (EVERY_N=1, {CAPACITY_CAMERAS} cameras, no viewer) vs {seed_fps:.1f} frames/s",
            )
    if one:
        fraction = one["analysis"]["named_fraction"]
        add(
            "known face named (frames with any face)",
            f">= {TARGETS['named_fraction']:.0%}",
            fraction,
            fraction is not None and fraction >= TARGETS["named_fraction"],
            "ours, 1 viewer phase",
        )
        recall = one["analysis"].get("recall_vs_direct") or {}
        if recall.get("fraction") is not None:
            add(
                "known face named where direct names him",
                f">= {TARGETS['named_fraction']:.0%}",
                recall["fraction"],
                recall["fraction"] >= TARGETS["named_fraction"],
                f"{recall['frames']} frames",
            )
    return rows


def print_report(report: dict) -> None:
    fps = report["clip"]["fps"]
    say()
    say(
        f"Stream (1280x720 at {fps:.2f} fps; latency = receive time - X-Capture-Time; "
        f"CPU in cores: web process for ours, the whole process for the seed)"
    )
    header = (
        "system",
        "viewers",
        "lat p50",
        "lat p95",
        "1st 3rd p50",
        "last 3rd p50",
        "bus p50/p95",
        "web age p50/p95",
        "fps/viewer min",
        "% src min",
        "box age p50",
        "box age p95",
        "analysed/s",
        "cpu cores",
        "cpu/viewer",
        "note",
    )
    rows = []
    for system in ("ours", "seed"):
        for count, phase in report.get(system, {}).get("phases", {}).items():
            latency = phase["latency_ms"]
            cores = phase.get("web_cores") if system == "ours" else phase.get("seed_cores")
            per_viewer = cores / int(count) if cores is not None else None
            note = phase.get("stopped_early") or ""
            if system == "seed":
                queues = phase["queues_at_end"]
                note = (
                    note + "; " if note else ""
                ) + f"queues at end: frames {queues['frames']}, viewer max {queues['viewer_max']}"
            bus = phase.get("bus_frame_latency_ms") or {}
            web_age = phase.get("web_newest_frame_age_ms") or {}
            rows.append(
                (
                    system,
                    count,
                    fmt(latency["p50"]),
                    fmt(latency["p95"]),
                    fmt(latency["first_third_p50"]),
                    fmt(latency["last_third_p50"]),
                    f"{fmt(bus.get('p50'))}/{fmt(bus.get('p95'))}" if bus else "-",
                    f"{fmt(web_age.get('p50'))}/{fmt(web_age.get('p95'))}" if web_age else "-",
                    fmt(phase["fps_per_viewer"]["min"]),
                    fmt(phase["pct_of_source_fps"]["min"], 1, "%"),
                    fmt(phase["box_age_ms"]["p50"]),
                    fmt(phase["box_age_ms"]["p95"]),
                    fmt(phase["analysis"]["analysed_fps"]),
                    fmt(cores, 2),
                    fmt(per_viewer, 3),
                    note,
                )
            )
    say(common.table(header, rows))

    say()
    say("Analysis throughput (frames analysed per second; worker timings are medians from the bus results;")
    say(" cores = CPU of the analysing processes: infer-* for ours, the processing thread for the seed)")
    header = (
        "what",
        "workers",
        "every_n",
        "frames/s",
        "x direct",
        "cores",
        "frames/cpu-s",
        "x direct",
        "decode",
        "detect",
        "encode",
        "match",
        "total ms",
        "encoded/faces",
        "named",
        "recall vs direct",
    )
    rows = []
    direct = report.get("direct")
    direct_per_cpu = direct["fps"] / direct["cpu_cores"] if direct and direct.get("cpu_cores") else None
    if direct:
        rows.append(
            (
                "direct face_recognition loop",
                "-",
                "-",
                fmt(direct["fps"]),
                "1.00",
                fmt(direct["cpu_cores"], 2),
                fmt(direct_per_cpu),
                "1.00",
                "-",
                "-",
                "-",
                "-",
                fmt(direct["ms_per_frame"]["p50"]),
                "all",
                f"{direct['frames_naming_known']}/{direct['frames_with_face']}",
                "-",
            )
        )

    def analysis_row(what: str, workers, every_n, analysis: dict, cores: float | None) -> tuple:
        timings = analysis.get("timings_ms", {})
        fps_ = analysis.get("analysed_fps")
        ratio = fps_ / direct["fps"] if direct and fps_ else None
        per_cpu = fps_ / cores if fps_ and cores else None
        recall = (analysis.get("recall_vs_direct") or {}).get("fraction")
        return (
            what,
            workers,
            every_n,
            fmt(fps_),
            fmt(ratio, 2),
            fmt(cores, 2),
            fmt(per_cpu),
            fmt(per_cpu / direct_per_cpu if per_cpu and direct_per_cpu else None, 2),
            *(
                fmt((timings.get(key) or {}).get("p50"))
                for key in ("decode_ms", "detect_ms", "encode_ms", "match_ms", "total_ms")
            ),
            f"{fmt(analysis.get('faces_encoded'))}/{fmt(analysis.get('faces'))}",
            f"{analysis['frames_naming_known']}/{analysis['frames_with_face']}",
            fmt(recall, 2),
        )

    ours_phases = report.get("ours", {}).get("phases", {})
    for count, phase in ours_phases.items():
        settings = report["ours"]["settings"]
        rows.append(
            analysis_row(
                f"ours, {count} viewer(s)",
                settings["workers"],
                settings["every_n"],
                phase["analysis"],
                phase.get("infer_cores"),
            )
        )
    for _name, run in report.get("capacity", {}).items():
        if isinstance(run, dict) and "analysis" in run:
            rows.append(
                analysis_row(
                    f"ours capacity, {run.get('cameras', 1)} cameras",
                    run["settings"]["workers"],
                    run["settings"]["every_n"],
                    {**run["analysis"], "analysed_fps": run["analysed_fps"]},
                    run.get("infer_cores"),
                )
            )
    for count, phase in report.get("seed", {}).get("phases", {}).items():
        rows.append(
            analysis_row(f"seed, {count} viewer(s)", 1, 2, phase["analysis"], phase["thread_cores"].get("processing"))
        )
    say(common.table(header, rows))

    say()
    say("CPU per process during each phase (cores; 2 cores on this machine)")
    names: list[str] = []
    cpu_rows = []
    for system, runs in (("ours", {"": report.get("ours")}), ("capacity", report.get("capacity", {}))):
        for run_name, run in runs.items():
            if not isinstance(run, dict) or "phases" not in run:
                continue
            for count, phase in run["phases"].items():
                label = (
                    f"{system} {run_name} W{run['settings']['workers']} N{run['settings']['every_n']} "
                    f"{count} viewers".replace("  ", " ")
                )
                cores = dict(phase["cpu_cores"])
                cpu_rows.append((label, cores))
                names += [name for name in cores if name not in names]
    for count, phase in report.get("seed", {}).get("phases", {}).items():
        cores = {f"seed:{name}": value for name, value in phase["thread_cores"].items()}
        cores["seed"] = phase["cpu_cores"].get("seed")
        cores["bench-viewers"] = phase["cpu_cores"].get("bench-viewers")
        cpu_rows.append((f"seed {count} viewers", cores))
        names += [name for name in cores if name not in names]
    say(common.table(("phase", *names), [(label, *(fmt(cores.get(n), 2) for n in names)) for label, cores in cpu_rows]))

    say()
    say("Memory (RSS MB) at start (after warm-up) -> end")
    mem_rows = []
    for label, run in (
        ("ours", report.get("ours")),
        *((f"capacity {k}", v) for k, v in report.get("capacity", {}).items()),
    ):
        if isinstance(run, dict) and "rss_mb_start" in run:
            for name in run["rss_mb_start"]:
                mem_rows.append((label, name, fmt(run["rss_mb_start"][name]), fmt(run["rss_mb_end"].get(name))))
    for count, phase in report.get("seed", {}).get("phases", {}).items():
        mem_rows.append((f"seed {count} viewers", "seed", fmt(phase["rss_mb_start"]), fmt(phase["rss_mb_end"])))
    say(common.table(("run", "process", "start", "end"), mem_rows))

    say()
    say("Targets")
    say(
        common.table(
            ("target", "wanted", "value", "met", "note"),
            [
                (
                    row["target"],
                    row["wanted"],
                    fmt(row["value"], 2),
                    "info" if row["met"] is None else fmt(bool(row["met"])),
                    row["note"],
                )
                for row in report["targets"]
            ],
        )
    )


def strip_private(value):
    if isinstance(value, dict):
        return {key: strip_private(item) for key, item in value.items() if not str(key).startswith("_")}
    if isinstance(value, list):
        return [strip_private(item) for item in value]
    return value


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, help="measured seconds per phase (default 60; --quick 10)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 s phases, every 5th frame for direct")
    parser.add_argument("--viewers", default="1,10,50", help="viewer counts, in order (default 1,10,50)")
    parser.add_argument("--parts", default="direct,ours,capacity,seed", help="which parts to run")
    parser.add_argument("--warmup", type=float, help="seconds ignored at the start of each phase (default 3; quick 2)")
    parser.add_argument(
        "--seed-rss-limit-mb",
        type=float,
        default=2500.0,
        help="cut a seed phase short when the seed's RSS passes this (its queues are unbounded)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, the 720p clip)")
    parser.add_argument("--direct-clip", type=Path, help=argparse.SUPPRESS)  # the direct loop's child process
    parser.add_argument("--direct-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--direct-every", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--direct-nice", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.direct_out:
        os.nice(args.direct_nice)
        result = direct_reference(args.direct_clip, args.direct_out.parent, args.direct_every)
        result["positions"] = result.pop("_positions")
        args.direct_out.write_text(json.dumps(result))
        return 0
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 3.0)
    viewers = [int(v) for v in args.viewers.split(",") if v.strip()]
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if common.missing_data("pipeline", common.CLIP, common.REFERENCE):
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="facestream-bench-pipeline-"))
    load_before = common.load_average()
    report: dict = {
        "bench": "pipeline",
        "quick": args.quick,
        "seconds": seconds,
        "warmup_s": warmup,
        "viewers": viewers,
        "load_before": load_before,
        "workdir": str(workdir) if args.keep else None,
    }
    say(
        f"pipeline bench: {seconds:.0f} s per phase, viewers {viewers}, load average {load_before}, "
        f"temp folder {workdir}"
    )
    try:
        clip = workdir / "hamilton_720p.mp4"
        fps, frame_count = make_clip(common.CLIP, clip)
        report["clip"] = {"width": WIDTH, "height": HEIGHT, "fps": fps, "frames": frame_count}
        say(f"  clip: {clip.name} {WIDTH}x{HEIGHT} {fps:.2f} fps {frame_count} frames")
        direct = None
        if "direct" in parts:
            say("  direct face_recognition loop ...")
            direct = run_direct(clip, workdir, 5 if args.quick else 1)
            report["direct"] = direct
        if "ours" in parts:
            report["ours"] = run_ours(
                "ours", clip, workdir, {"workers": 2, "every_n": 2}, viewers, seconds, warmup, fps, frame_count, direct
            )
        if "capacity" in parts:
            report["capacity"] = {}
            for workers in (1, 2):
                say(
                    f"  capacity: WORKERS={workers} EVERY_N=1, {CAPACITY_CAMERAS} cameras, no viewer, "
                    f"{seconds:.0f} s ..."
                )
                run = run_ours(
                    f"capacity{workers}",
                    clip,
                    workdir,
                    {"workers": workers, "every_n": 1},
                    [],
                    seconds,
                    warmup,
                    fps,
                    frame_count,
                    direct,
                    cameras=CAPACITY_CAMERAS,
                )
                phase = run["phases"]["0"]
                run["analysis"] = phase["analysis"]
                run["cameras"] = CAPACITY_CAMERAS
                run["analysed_fps"] = phase["analysed_fps_all_cameras"]
                run["infer_cores"] = phase["infer_cores"]
                run["analysed_per_infer_cpu_s"] = (
                    run["analysed_fps"] / run["infer_cores"] if run["analysed_fps"] and run["infer_cores"] else None
                )
                report["capacity"][f"workers{workers}"] = run
            w1 = report["capacity"]["workers1"]["analysed_fps"]
            w2 = report["capacity"]["workers2"]["analysed_fps"]
            report["capacity"]["ratio_2_to_1"] = w2 / w1 if w1 else None
            if direct and w1:
                report["capacity"]["worker_vs_direct"] = w1 / direct["fps"]
                per_cpu = report["capacity"]["workers1"]["analysed_per_infer_cpu_s"]
                if per_cpu and direct.get("cpu_cores"):
                    report["capacity"]["worker_vs_direct_per_cpu_s"] = per_cpu / (direct["fps"] / direct["cpu_cores"])
        if "seed" in parts:
            report["seed"] = run_seed(
                clip, workdir, viewers, seconds, warmup, fps, frame_count, args.seed_rss_limit_mb, direct
            )
        report["load_after"] = common.load_average()
        report["targets"] = target_rows(report)
        print_report(report)
        say(f"load average before {load_before}, after {report['load_after']}")
        common.emit_json(strip_private(report))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
