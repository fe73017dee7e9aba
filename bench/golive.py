"""Go live on loopback: a browser's webcam as a camera, glass-to-glass, beside a server camera in the same run.

Why it exists: the Go live page (services/web/static/golive.js) turns an
admin's webcam into a camera: frames drawn into a canvas go as JPEG over a
WebSocket, the server acks each (at most 2 in flight) and pushes the camera's
results back. What the host feels is the time from a frame leaving the page
to its boxes arriving back, and how many frames per second the page sustains.

This starts the real pipeline (``python -m services.launch`` through
tests.harness, one worker, loopback) with one server camera, ``server``,
playing the hamilton clip (640x360, 29.97 fps), and Lin-Manuel Miranda's
reference photos, so the face is named. Debian's Chromium (Playwright) plays
the same clip at 1280x720 as its fake webcam (a Y4M file, looped), logs in
once as ``admin`` and goes live from ``/go-live``, at 640 wide then at 1280
wide (a fresh page and camera name each). Phases, one after the other:

1. **server alone**: the server camera and nobody hosting;
2. **host 640** and **host 1280**: the page live at that width, after a warm-up,
   with the server camera still running (one worker serves both).

Over each window it reads:

- from the page (``window.facestreamHost``): the round trips (ms from a frame's
  JPEG leaving the page, i.e. after the canvas encoded it, to its result
  arriving back; drained every 0.5 s so the page's 300-entry cap never bites),
  p50/p95, and frames sent per second (``sent`` at both ends of the window);
- from the bus (a plain subscriber of the broker, ``common.BusRecorder``): per
  camera, frames published per second, results per second, and the result's
  age on the bus, ``published_ts - capture_ts`` (for the server camera the
  capture is the file read; for a hosted camera it is the web receiving the
  frame from the socket, so the page's round trip minus this is the
  WebSocket, the web's result push and the browser);
- CPU cores of the infer worker and the web over the window.

The two latencies measure different spans: the browser's is glass-to-glass
from the page's point of view (network in, bus, dispatch, inference, result
back over the socket), the server camera's is capture-to-result on the bus.

    .venv/bin/python bench/golive.py            # 30 s windows (~2 min)
    .venv/bin/python bench/golive.py --quick    # 10 s windows (~1 min)

Needs Playwright (requirements-dev.txt) and Chromium at /usr/bin/chromium.
Writes bench/results/golive.json.
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

from bench import common  # noqa: E402

RESULTS = common.RESULTS_DIR / "golive.json"
CHROMIUM = Path("/usr/bin/chromium")
SERVER_CAMERA = "server"
SERVER_WIDTH = 640
SOURCE_FPS = 29.97
WIDTHS = (640, 1280)
WEBCAM_WIDTH = 1280
WEBCAM_SECONDS = 6.0
ADMIN_PASSWORD = "golive-bench-admin-password"
SAMPLE_EVERY_S = 0.5

DRAIN = """() => {
  const host = window.facestreamHost;
  const trips = host.roundTrips;
  host.roundTrips = [];
  return {trips, sent: host.sent, answered: host.answered, fps: host.fps === undefined ? null : host.fps,
          video: [document.getElementById('local').videoWidth, document.getElementById('local').videoHeight]};
}"""


def bus_figures(recorder: common.BusRecorder, camera: str, window: common.Window) -> dict:
    """Frames and results per second of a camera on the bus over the window, and the results' age."""
    results = recorder.results(camera, window)
    ages = [(body["published_ts"] - body["capture_ts"]) * 1000.0 for _, body in results]
    with_face = [body for _, body in results if body["faces"]]
    named = [body for body in with_face if any(face["name"] == common.KNOWN for face in body["faces"])]
    frames = recorder.frame_latency_ms(camera, window)
    sizes = sorted({(body["width"], body["height"]) for _, body in results})
    names: dict[str, int] = {}
    for _, body in results:
        for face in body["faces"]:
            names[face["name"]] = names.get(face["name"], 0) + 1
    worker_ms = {
        key: common.percentile([body["timings"].get(key, 0.0) for _, body in results], 50)
        for key in ("queue_ms", "decode_ms", "detect_ms", "encode_ms", "total_ms")
    }
    return {
        "frames_per_s": frames["frames"] / window.seconds if window.seconds else None,
        "results_per_s": len(results) / window.seconds if window.seconds else None,
        "results": len(results),
        "result_age_ms": {"p50": common.percentile(ages, 50), "p95": common.percentile(ages, 95)},
        "frame_to_bus_ms_p50": frames["p50"],
        "named_fraction": len(named) / len(with_face) if with_face else None,
        "sizes": [list(size) for size in sizes],
        "faces_by_name": names,
        "worker_ms_p50": worker_ms,
    }


def pipeline_cores(pipeline, before: dict, seconds: float) -> dict:  # type: ignore[no-untyped-def]
    """Cores used by the infer worker(s) and the web (master + worker) since ``before``."""
    from tests.harness import processes_with_marker

    labels = common.label_processes(processes_with_marker(pipeline.marker))
    cores = common.cpu_cores(before, common.cpu_snapshot(labels), seconds)
    return {
        "infer": sum(value for name, value in cores.items() if name.startswith("infer")),
        "web": sum(value for name, value in cores.items() if name.startswith("web")),
        "capture": sum(value for name, value in cores.items() if name.startswith("capture")),
    }


def cpu_before(pipeline) -> dict:  # type: ignore[no-untyped-def]
    from tests.harness import processes_with_marker

    return common.cpu_snapshot(common.label_processes(processes_with_marker(pipeline.marker)))


def browser_pids() -> list[int]:
    """This run's Chromium processes: descendants of this process (through Playwright's driver) named chromium."""
    parents: dict[int, int | None] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parents[int(entry.name)] = common.parent_pid(int(entry.name))
    ours, mine = [], os.getpid()
    for pid in parents:
        ancestor, hops = parents.get(pid), 0
        while ancestor not in (None, 0, 1, mine) and hops < 20:
            ancestor, hops = parents.get(ancestor), hops + 1
        if ancestor == mine and "chrom" in common.cmdline(pid).split(" ")[0]:
            ours.append(pid)
    return ours


def browser_cpu_seconds() -> dict[int, float | None]:
    return {pid: common.cpu_seconds(pid) for pid in browser_pids()}


def browser_cores(before: dict[int, float | None], seconds: float) -> float | None:
    """Cores used by the Chromium processes alive at both ends of the window."""
    if not seconds:
        return None
    used = 0.0
    for pid, start in before.items():
        end = common.cpu_seconds(pid)
        if start is not None and end is not None:
            used += end - start
    return used / seconds


def server_alone(pipeline, recorder: common.BusRecorder, seconds: float) -> dict:  # type: ignore[no-untyped-def]
    before = cpu_before(pipeline)
    window = common.Window(time.time(), time.time() + seconds)
    time.sleep(seconds)
    return {
        "phase": "server alone",
        "window_s": window.seconds,
        "server": bus_figures(recorder, SERVER_CAMERA, window),
        "cores": pipeline_cores(pipeline, before, window.seconds),
    }


def host_phase(context, pipeline, recorder, width: int, seconds: float, warmup: float) -> dict:  # type: ignore[no-untyped-def]
    """Go live at ``width`` on a fresh page, warm up, sample the page and the bus over the window, stop."""
    camera = f"host{width}"
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{pipeline.base_url}/go-live")
        page.fill("#camera-name", camera)
        page.select_option("#size", str(width))
        page.click("#start")
        page.locator("#status", has_text="Live as camera").wait_for(timeout=30_000)
        time.sleep(warmup)
        first = page.evaluate(DRAIN)
        before = cpu_before(pipeline)
        browser_before = browser_cpu_seconds()
        started = time.time()
        trips: list[float] = []
        fps_samples: list[float] = []
        last = first
        while time.time() - started < seconds:
            time.sleep(SAMPLE_EVERY_S)
            last = page.evaluate(DRAIN)
            trips += last["trips"]
            if last["fps"] is not None:
                fps_samples.append(last["fps"])
        window = common.Window(started, time.time())
        cores = pipeline_cores(pipeline, before, window.seconds)
        cores["browser"] = browser_cores(browser_before, window.seconds)
        page.click("#stop")
        page.locator("#status", has_text="Off the air").wait_for(timeout=10_000)
    finally:
        page.close()
    return {
        "phase": f"host {width}",
        "camera": camera,
        "width": width,
        "window_s": window.seconds,
        "page": {
            "sent_fps": (last["sent"] - first["sent"]) / window.seconds,
            "fps_samples_mean": sum(fps_samples) / len(fps_samples) if fps_samples else None,
            "acked_fps": (last["answered"] - first["answered"]) / window.seconds,
            "round_trips": len(trips),
            "round_trip_ms": {
                "p50": common.percentile(trips, 50),
                "p95": common.percentile(trips, 95),
                "max": max(trips, default=None),
            },
            "video": last["video"],
            "errors": problems,
        },
        "hosted": bus_figures(recorder, camera, window),
        "server": bus_figures(recorder, SERVER_CAMERA, window),
        "cores": cores,
    }


def log_in(context, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """Once for the whole run (the login is rate limited): the context keeps the session cookie."""
    page = context.new_page()
    try:
        page.goto(f"{base_url}/login")
        page.fill("#name", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
    finally:
        page.close()


def run(workdir: Path, seconds: float, warmup: float) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.harness import Pipeline, wait_for, write_y4m

    webcam = write_y4m(common.CLIP, workdir / "webcam.y4m", WEBCAM_WIDTH, WEBCAM_SECONDS)
    pipeline = Pipeline.configure(
        workdir / "pipeline",
        source=f"{SERVER_CAMERA}={common.CLIP}",
        faces_dir=str(common.REFERENCE),
        api_token=common.BENCH_TOKEN,
        workers="1",
        admin_password=ADMIN_PASSWORD,
    )
    (workdir / "pipeline").mkdir()
    recorder = common.BusRecorder(pipeline.bus_port)
    recorder.start()
    phases: list[dict] = []
    try:
        pipeline.start()
        pipeline.wait_for_workers(1, timeout_s=120)
        wait_for(lambda: recorder.results(SERVER_CAMERA), 120, "the server camera's first result", poll_s=0.2)
        time.sleep(warmup)
        phases.append(server_alone(pipeline, recorder, seconds))
        print(f"  {json.dumps(common.rounded(phases[-1]))}", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={webcam}",
                ],
            )
            try:
                context = browser.new_context(viewport={"width": 1300, "height": 900})
                context.grant_permissions(["camera"], origin=pipeline.base_url)
                log_in(context, pipeline.base_url)
                for width in WIDTHS:
                    phases.append(host_phase(context, pipeline, recorder, width, seconds, warmup))
                    print(f"  {json.dumps(common.rounded(phases[-1]))}", flush=True)
            finally:
                browser.close()
        pipeline.stop()
    finally:
        recorder.stop()
        pipeline.kill_leftovers()  # a failed run must leave no process behind
    return {"phases": phases}


def ms(figures: dict) -> str:
    return f"{common.fmt(figures['p50'], 0)} / {common.fmt(figures['p95'], 0)}"


def report(phases: list[dict]) -> None:
    rows = []
    for phase in phases:
        if "page" in phase:
            page, hosted = phase["page"], phase["hosted"]
            rows.append(
                [
                    phase["phase"],
                    phase["camera"],
                    phase["width"],
                    common.fmt(page["sent_fps"]),
                    common.fmt(hosted["results_per_s"]),
                    ms(page["round_trip_ms"]),
                    "browser round trip (page send -> boxes back)",
                ]
            )
            rows.append(
                [
                    "",
                    "",
                    "",
                    common.fmt(hosted["frames_per_s"]),
                    "",
                    ms(hosted["result_age_ms"]),
                    "hosted camera on the bus (web receive -> result)",
                ]
            )
        server = phase["server"]
        rows.append(
            [
                phase["phase"] if "page" not in phase else "",
                SERVER_CAMERA,
                SERVER_WIDTH,
                common.fmt(server["frames_per_s"]),
                common.fmt(server["results_per_s"]),
                ms(server["result_age_ms"]),
                "server camera on the bus (capture -> result)",
            ]
        )
    print(
        common.table(
            ["phase", "camera", "width", "sent/captured fps", "results/s", "latency p50 / p95 ms", "latency measures"],
            rows,
        )
    )
    print()
    print(
        common.table(
            [
                "phase",
                "infer cores",
                "web cores",
                "capture cores",
                "browser cores",
                "worker ms p50 (host)",
                "worker ms p50 (server)",
                "named (host)",
                "named (server)",
            ],
            [
                [
                    phase["phase"],
                    common.fmt(phase["cores"]["infer"], 2),
                    common.fmt(phase["cores"]["web"], 2),
                    common.fmt(phase["cores"]["capture"], 2),
                    common.fmt(phase["cores"].get("browser"), 2),
                    common.fmt(phase.get("hosted", {}).get("worker_ms_p50", {}).get("total_ms"), 0),
                    common.fmt(phase["server"]["worker_ms_p50"]["total_ms"], 0),
                    common.fmt(phase.get("hosted", {}).get("named_fraction"), 2),
                    common.fmt(phase["server"]["named_fraction"], 2),
                ]
                for phase in phases
            ],
        )
    )
    for phase in phases:
        if phase.get("page", {}).get("errors"):
            print(f"{phase['phase']}: page errors {phase['page']['errors']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s windows and 3 s warm-ups instead of 30 s and 5 s")
    args = parser.parse_args()
    if common.missing_data("golive", common.CLIP, common.REFERENCE):
        return 0
    if not CHROMIUM.is_file():
        print(f"golive: skipped, Chromium not found at {CHROMIUM} (apt-get install chromium)")
        return 0
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print("golive: skipped, Playwright is not installed (requirements-dev.txt)")
        return 0
    seconds, warmup = (10.0, 3.0) if args.quick else (30.0, 5.0)
    load_before = common.load_average()
    print(f"load average before: {load_before}", flush=True)
    with tempfile.TemporaryDirectory(prefix="facestream-golive-") as scratch:
        figures = run(Path(scratch), seconds, warmup)
    load_after = common.load_average()
    report(figures["phases"])
    print(f"\nload average before {load_before}, after {load_after} (2 cores here: above 2, others are busy)")
    result = {
        "bench": "golive",
        "window_s": seconds,
        "warmup_s": warmup,
        "workers": 1,
        "server_camera": f"{SERVER_CAMERA}: hamilton clip {SERVER_WIDTH}x360 at {SOURCE_FPS} fps",
        "webcam": f"Chromium fake webcam: the same clip at {WEBCAM_WIDTH} wide ({WEBCAM_SECONDS:.0f} s, looped)",
        "load_average_before": load_before,
        "load_average_after": load_after,
        **figures,
    }
    common.save_and_emit(RESULTS, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
