"""A bounded soak of the real pipeline: two cameras, two workers, 20 viewers, for minutes; does anything leak or fail?

Why it exists: the other benches measure windows of seconds to a minute; a
leak, a log that fills with errors, a viewer that slowly falls behind or a
process that supervisord quietly restarts only shows over a longer run
(issue 16, "Break it on purpose"). This starts the real pipeline (``python -m
services.launch`` through tests.harness, loopback) with two cameras:

- ``hamilton``: the hamilton clip (640x360, 29.97 fps, 275 frames, looped);
- ``clinton``: the Bill Clinton clip (480x360, 29.97 fps, 39 s, looped; the
  first ~10 s have no face), so the cameras differ in size and content;

FACES_DIR=``video_hamilton/reference`` (Lin-Manuel Miranda is named; Bill
Clinton is not enrolled, so he stays Unknown), WORKERS=2 and
MAX_STREAMS_PER_CLIENT=1000 (every viewer comes from 127.0.0.1). 20 MJPEG
viewers, 10 per camera (``common.ViewerFleet``, one child process per camera),
connect, then after a warm-up the run lasts ``--minutes`` (default 5;
``--quick``: 1). It reports:

- the RSS of every process (supervisord, broker, capture-*, infer-*,
  web-master, web-worker) after the warm-up and at the end, the growth in MB
  and %, sampled every 30 s too (the series and a least-squares slope in
  MB/min, so a slow leak shows as a trend rather than one difference);
- CPU cores per process over the run (and the viewers' own processes);
- per viewer, frames received as % of the source fps (min/median) and the
  latency (receive time - X-Capture-Time) p50/p95, over the whole run and its
  first and last thirds;
- per camera, frames and results per second on the bus (``common.BusRecorder``),
  and the dispatcher's received/dispatched/dropped counters;
- the ERROR and Traceback lines each service (broker, capture, infer, web)
  logged during the run (and before it), with the first few distinct ones;
- whether any process was restarted (a pid that changed between start and end).

    .venv/bin/python bench/soak.py               # 5 minutes (~6 min with start-up)
    .venv/bin/python bench/soak.py --quick       # 1 minute
    .venv/bin/python bench/soak.py --minutes 30  # longer

The machine is small (2 cores) and shared: the load average before and after
is printed; read CPU and fps figures with it. Writes bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

RESULTS = common.RESULTS_DIR / "soak.json"
CLINTON_CLIP = common.DATA / "video_bill_clinton" / "Bill_Clinton.avi"
CAMERAS = {"hamilton": common.CLIP, "clinton": CLINTON_CLIP}
SOURCE_FPS = 29.97
VIEWERS_PER_CAMERA = 10
WORKERS = 2
SAMPLE_EVERY_S = 30.0
PROGRAMS = ("broker", "capture", "infer", "web")
TREND_PROCESSES = ("web-worker", "broker")
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")
WARNING_LINE = re.compile(r"\bWARNING\b")
HTTP_5XX_LINE = re.compile(r'" 5\d\d ')


def say(text: str) -> None:
    print(text, flush=True)


def log_lines(pipeline, program: str) -> list[str]:  # type: ignore[no-untyped-def]
    return pipeline.log(program).splitlines()


def log_counts(pipeline) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Per program: how many ERROR/Traceback and WARNING lines it has logged so far."""
    counts = {}
    for program in PROGRAMS:
        lines = log_lines(pipeline, program)
        counts[program] = {
            "lines": len(lines),
            "errors": sum(1 for line in lines if ERROR_LINE.search(line)),
            "warnings": sum(1 for line in lines if WARNING_LINE.search(line)),
            "http_5xx": sum(1 for line in lines if HTTP_5XX_LINE.search(line)),
        }
    return counts


def distinct_errors(pipeline, program: str, limit: int = 5) -> list[str]:  # type: ignore[no-untyped-def]
    """The first few distinct ERROR/Traceback lines of a program (digits masked, so repeats fold together)."""
    seen: dict[str, str] = {}
    for line in log_lines(pipeline, program):
        if ERROR_LINE.search(line):
            key = re.sub(r"\d+", "N", line)[:200]
            seen.setdefault(key, line[:300])
            if len(seen) >= limit:
                break
    return list(seen.values())


def web_metrics(pipeline) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The web's own counters (/metrics): '<name>{camera="..."}' -> value, for the facestream_ ones."""
    values = {}
    try:
        text = pipeline.get("/metrics")[1].decode()
    except OSError:
        return values
    for line in text.splitlines():
        if line.startswith("facestream_") and " " in line:
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                continue
    return values


def web_rates(before: dict[str, float], after: dict[str, float], seconds: float) -> dict:
    """Per camera, per second over the run: frames the web received, results it received, parts it streamed."""
    rates: dict = {}
    for camera in CAMERAS:
        rates[camera] = {}
        for key, metric in (
            ("frames_received_per_s", "facestream_frames_captured_total"),
            ("results_received_per_s", "facestream_frames_analysed_total"),
            ("parts_streamed_per_s", "facestream_frames_streamed_total"),
        ):
            name = f'{metric}{{camera="{camera}"}}'
            if name in before and name in after and seconds > 0:
                rates[camera][key] = (after[name] - before[name]) / seconds
    bad = "facestream_bad_messages_total"
    rates["bad_messages"] = after.get(bad, 0.0) - before.get(bad, 0.0) if bad in after else None
    return rates


def slope_mb_per_min(series: list[tuple[float, float | None]]) -> float | None:
    """Least-squares slope of (seconds, MB) samples, in MB per minute; None with fewer than 2 samples."""
    points = [(at, value) for at, value in series if value is not None]
    if len(points) < 2:
        return None
    mean_t = sum(at for at, _ in points) / len(points)
    mean_v = sum(value for _, value in points) / len(points)
    spread = sum((at - mean_t) ** 2 for at, _ in points)
    if spread <= 0:
        return None
    return 60.0 * sum((at - mean_t) * (value - mean_v) for at, value in points) / spread


def bus_figures(recorder: common.BusRecorder, camera: str, window: common.Window) -> dict:
    """Frames and results per second of a camera on the bus, the results' age, and who was named."""
    results = recorder.results(camera, window)
    ages = [(body["published_ts"] - body["capture_ts"]) * 1000.0 for _, body in results]
    frames = recorder.frame_latency_ms(camera, window)
    names: dict[str, int] = {}
    for _, body in results:
        for face in body["faces"]:
            names[face["name"]] = names.get(face["name"], 0) + 1
    return {
        "frames_per_s": frames["frames"] / window.seconds if window.seconds else None,
        "frame_to_bus_ms": {"p50": frames["p50"], "p95": frames["p95"]},
        "results_per_s": len(results) / window.seconds if window.seconds else None,
        "results": len(results),
        "frames_with_face": sum(1 for _, body in results if body["faces"]),
        "result_age_ms": {"p50": common.percentile(ages, 50), "p95": common.percentile(ages, 95)},
        "faces_by_name": names,
    }


def run(minutes: float, warmup: float, workdir: Path) -> dict:
    """Start the pipeline and the viewers, warm up, soak for ``minutes``, measure; always stop everything."""
    from tests.harness import Pipeline, processes_with_marker, wait_for

    pipeline = Pipeline.configure(
        workdir,
        source=",".join(f"{name}={clip}" for name, clip in CAMERAS.items()),
        faces_dir=str(common.REFERENCE),
        api_token=common.BENCH_TOKEN,
        workers=str(WORKERS),
        max_streams_per_client="1000",  # every viewer comes from 127.0.0.1
    )
    seconds = minutes * 60.0
    recorder = common.BusRecorder(pipeline.bus_port)
    fleets: dict[str, common.ViewerFleet] = {}
    out: dict = {}
    try:
        started = time.time()
        recorder.start()
        pipeline.start()
        pipeline.wait_for_workers(WORKERS, timeout_s=180)
        for camera in CAMERAS:
            wait_for(lambda camera=camera: recorder.results(camera), 120, f"the first result of {camera}", poll_s=0.2)
        out["ready_after_s"] = time.time() - started
        say(f"  pipeline ready after {out['ready_after_s']:.1f} s; {len(CAMERAS) * VIEWERS_PER_CAMERA} viewers ...")
        for camera in CAMERAS:
            fleets[camera] = common.ViewerFleet(
                f"{pipeline.base_url}/stream/{camera}.mjpg", VIEWERS_PER_CAMERA, warmup + seconds + 5.0, workdir
            )
        time.sleep(warmup)

        labels = common.label_processes(processes_with_marker(pipeline.marker))
        out["processes"] = dict(sorted(labels.items()))
        logs_start = log_counts(pipeline)
        rss_start = common.rss_snapshot(labels)
        cpu_start = common.cpu_snapshot(labels)
        metrics_start = web_metrics(pipeline)
        window = common.Window(time.time(), time.time() + seconds)
        say(f"  soaking for {minutes:g} min (RSS every {SAMPLE_EVERY_S:.0f} s) ...")
        samples: list[dict] = [{"t_s": 0.0, "rss_mb": rss_start}]
        next_sample = window.start + SAMPLE_EVERY_S
        while time.time() < window.end:
            time.sleep(max(0.0, min(next_sample, window.end) - time.time()))
            if time.time() >= next_sample and time.time() < window.end - 1.0:
                samples.append({"t_s": time.time() - window.start, "rss_mb": common.rss_snapshot(labels)})
                line = ", ".join(f"{name} {samples[-1]['rss_mb'].get(name) or 0:.0f}" for name in TREND_PROCESSES)
                say(f"    {samples[-1]['t_s']:4.0f} s: RSS MB {line}")
                next_sample += SAMPLE_EVERY_S
            for camera, fleet in fleets.items():
                early = out.setdefault("viewers_exited_early_s", {})
                if not fleet.running() and camera not in early:
                    early[camera] = time.time() - window.start
        window = common.Window(window.start, time.time())
        rss_end = common.rss_snapshot(labels)
        cpu_end = common.cpu_snapshot(labels)
        metrics_end = web_metrics(pipeline)
        samples.append({"t_s": window.seconds, "rss_mb": rss_end})
        logs_end = log_counts(pipeline)
        labels_end = common.label_processes(processes_with_marker(pipeline.marker))

        out["window_s"] = window.seconds
        out["rss_mb_start"] = rss_start
        out["rss_mb_end"] = rss_end
        out["rss_samples"] = samples
        out["rss_growth"] = {}
        for name in labels:
            start, end = rss_start.get(name), rss_end.get(name)
            series = [(sample["t_s"], sample["rss_mb"].get(name)) for sample in samples]
            out["rss_growth"][name] = {
                "mb": None if start is None or end is None else end - start,
                "pct": None if not start or end is None else 100.0 * (end - start) / start,
                "slope_mb_per_min": slope_mb_per_min(series),
            }
        out["cpu_cores"] = common.cpu_cores(cpu_start, cpu_end, window.seconds)
        out["restarted"] = sorted(
            name for name, pid in labels.items() if labels_end.get(name) not in (None, pid) or name not in labels_end
        )
        out["new_processes"] = sorted(set(labels_end) - set(labels))
        out["logs"] = {
            program: {
                "errors_during_run": logs_end[program]["errors"] - logs_start[program]["errors"],
                "warnings_during_run": logs_end[program]["warnings"] - logs_start[program]["warnings"],
                "http_5xx_during_run": logs_end[program]["http_5xx"] - logs_start[program]["http_5xx"],
                "errors_before_run": logs_start[program]["errors"],
                "lines_total": logs_end[program]["lines"],
                "first_errors": distinct_errors(pipeline, program),
            }
            for program in PROGRAMS
        }
        out["bus"] = {camera: bus_figures(recorder, camera, window) for camera in CAMERAS}
        out["web"] = web_rates(metrics_start, metrics_end, window.seconds)
        stats = recorder.last_stats()
        if stats:
            out["dispatcher"] = {key: stats.get(key) for key in ("received", "dispatched", "dropped")}

        say("  waiting for the viewers to finish ...")
        out["viewers"] = {}
        for camera, fleet in fleets.items():
            data = fleet.wait()
            figures = common.stream_figures(data, window, SOURCE_FPS)
            figures["fleet_error"] = data.get("error")
            lasted = max(1.0, data.get("ended", 0) - data.get("started", 0))
            figures["client_cores"] = (data.get("cpu_s") or 0.0) / lasted
            out["viewers"][camera] = figures
        out["exit_code"] = pipeline.stop()
        wait_for(lambda: not processes_with_marker(pipeline.marker), 15, "every service to exit")
    finally:
        for fleet in fleets.values():
            if fleet.running() and fleet.process is not None:
                fleet.process.kill()
                fleet.process.wait()
        recorder.stop()
        pipeline.kill_leftovers()
    return out


def report(out: dict) -> None:
    cores = out["cpu_cores"]
    rows = []
    for name in out["processes"]:
        growth = out["rss_growth"][name]
        rows.append(
            [
                name,
                common.fmt(out["rss_mb_start"].get(name), 1),
                common.fmt(out["rss_mb_end"].get(name), 1),
                common.fmt(growth["mb"], 1),
                common.fmt(growth["pct"], 1, "%"),
                common.fmt(growth["slope_mb_per_min"], 2),
                common.fmt(cores.get(name), 2),
            ]
        )
    for camera, figures in out["viewers"].items():
        rows.append([f"viewers ({camera})", "-", "-", "-", "-", "-", common.fmt(figures["client_cores"], 2)])
    print(common.table(["process", "RSS MB start", "end", "growth MB", "growth", "MB/min", "cpu cores"], rows))
    print()

    times = [f"{sample['t_s']:.0f}" for sample in out["rss_samples"]]
    trend = [
        [name] + [common.fmt(sample["rss_mb"].get(name), 1) for sample in out["rss_samples"]]
        for name in TREND_PROCESSES
    ]
    print(common.table(["RSS MB at s"] + times, trend))
    print()

    rows = []
    for camera, figures in out["viewers"].items():
        bus = out["bus"][camera]
        web = out["web"].get(camera, {})
        latency = figures["latency_ms"]
        streamed = web.get("parts_streamed_per_s")
        rows.append(
            [
                camera,
                f"{figures['viewers']} ({figures['viewers_with_errors']} err)",
                common.fmt(figures["pct_of_source_fps"]["min"], 1),
                common.fmt(figures["pct_of_source_fps"]["median"], 1),
                f"{common.fmt(latency['p50'], 0)} / {common.fmt(latency['p95'], 0)}",
                f"{common.fmt(latency['first_third_p50'], 0)} / {common.fmt(latency['last_third_p50'], 0)}",
                common.fmt(bus["frames_per_s"], 1),
                common.fmt(web.get("frames_received_per_s"), 1),
                common.fmt(None if streamed is None else streamed / VIEWERS_PER_CAMERA, 1),
                common.fmt(bus["results_per_s"], 1),
                f"{common.fmt(bus['result_age_ms']['p50'], 0)} / {common.fmt(bus['result_age_ms']['p95'], 0)}",
            ]
        )
    print(
        common.table(
            [
                "camera",
                "viewers",
                "% src fps min",
                "median",
                "lat p50/p95 ms",
                "p50 1st/last 3rd",
                "bus frames/s",
                "web got/s",
                "web sent/s/viewer",
                "results/s",
                "result age p50/p95",
            ],
            rows,
        )
    )
    print()

    rows = [
        [
            program,
            logs["errors_during_run"],
            logs["warnings_during_run"],
            logs["http_5xx_during_run"],
            logs["errors_before_run"],
            logs["first_errors"][0][:100] if logs["first_errors"] else "",
        ]
        for program, logs in out["logs"].items()
    ]
    header = ["log", "ERROR/Traceback in run", "WARNING in run", "HTTP 5xx in run", "ERROR before", "first error"]
    print(common.table(header, rows))
    print()
    print(
        f"dispatcher: {out.get('dispatcher')}; web bad messages: {out['web'].get('bad_messages')};"
        f" restarted: {out['restarted'] or 'none'}; "
        f"new processes: {out['new_processes'] or 'none'}; exit code {out.get('exit_code')}"
    )
    for camera, figures in out["viewers"].items():
        if figures["errors"] or figures["fleet_error"]:
            print(f"viewers ({camera}) errors: {figures['errors']} {figures['fleet_error'] or ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the soak after the warm-up")
    parser.add_argument("--quick", action="store_true", help="1 minute, 10 s warm-up")
    parser.add_argument("--warmup", type=float, default=None, help="seconds with the viewers on before the start")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) and print its path")
    args = parser.parse_args()
    if common.missing_data("soak", *CAMERAS.values(), common.REFERENCE):
        return 0
    minutes = 1.0 if args.quick else args.minutes
    warmup = args.warmup if args.warmup is not None else (10.0 if args.quick else 20.0)
    load_before = common.load_average()
    say(f"soak: 2 cameras, {WORKERS} workers, {len(CAMERAS) * VIEWERS_PER_CAMERA} viewers, {minutes:g} min")
    say(f"  load average before: {load_before} ({os.cpu_count()} cores)")
    scratch = Path(tempfile.mkdtemp(prefix="facestream-soak-"))
    try:
        out = run(minutes, warmup, scratch)
    finally:
        if args.keep:
            say(f"  kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    load_after = common.load_average()
    say(f"  load average after: {load_after}")
    print()
    report(out)
    result = {
        "bench": "soak",
        "minutes": minutes,
        "warmup_s": warmup,
        "cameras": {name: str(clip.relative_to(common.DATA)) for name, clip in CAMERAS.items()},
        "workers": WORKERS,
        "viewers_per_camera": VIEWERS_PER_CAMERA,
        "source_fps": SOURCE_FPS,
        "load_average_before": load_before,
        "load_average_after": load_after,
        **out,
    }
    common.save_and_emit(RESULTS, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
