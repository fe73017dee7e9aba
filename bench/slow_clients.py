"""Whether the web holds its ground against hundreds of idle and slow clients: the threaded server against gevent.

Why it exists: one client that opens many streams it never reads, or many
connections that trickle a request head a byte at a time (slowloris), took
the threaded web down for everyone (issue 11). This starts the real pipeline
(``python -m services.launch`` through tests.harness, one camera playing the
hamilton clip, one worker, loopback) once per server model, WEB_SERVER=threads
(the server before gevent) then WEB_SERVER=gevent, one after the other in
this run, and for each:

1. a quiet window: a prober asks ``/healthz`` and ``/api/cameras`` (with the
   token) ten times a second, and one real viewer watches the stream;
2. the attack: 300 MJPEG connections that read the answer's head and then
   nothing (from 60 loopback addresses, 5 each, under the per-client cap),
   plus 200 slowloris connections that send a header line every 5 s and
   reconnect whenever the server drops them; then the same window again.

It prints, per server, the probe latencies (p50/p95/max, failures), the
viewer's share of the source frame rate, how many idle streams the server
took and how many slowloris connections it cut, and the web process's RSS and
threads. The targets: under attack, ``/healthz`` and the API p95 < 100 ms and
the viewer >= 95 % of frames.

    .venv/bin/python bench/slow_clients.py            # 30 s windows (~3 min)
    .venv/bin/python bench/slow_clients.py --quick    # 10 s windows

The attackers run in a child process of their own (``slow_clients.py attack``)
so their event loop never holds the prober's GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

RESULTS = common.RESULTS_DIR / "slow_clients.json"
CAMERA = "cam"
SOURCE_FPS = 29.97
IDLE_STREAMS = 300
IDLE_ADDRESSES = 60
SLOWLORIS = 200
SLOWLORIS_EVERY_S = 5.0
PROBE_EVERY_S = 0.1
PROBE_TIMEOUT_S = 5.0
SERVERS = ("threads", "gevent")


# --------------------------------------------------------------------------- the attackers (a child process)


async def _connect(source: str, port: int, receive_buffer: int | None = None) -> tuple:
    """A connection to the web from a given loopback address (small receive buffer: an idle reader stalls soon)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock, limit=4096)


async def _idle_stream(source: str, port: int, counts: dict[str, int]) -> None:
    """Ask for the stream, read the answer's head, then read nothing more, ever."""
    try:
        reader, writer = await _connect(source, port, receive_buffer=4096)
        writer.write(
            f"GET /stream/{CAMERA}.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {common.BENCH_TOKEN}\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        counts[f"idle_{type(error).__name__}"] = counts.get(f"idle_{type(error).__name__}", 0) + 1
        return
    status = head.split(b" ", 2)[1].decode()
    counts[f"idle_status_{status}"] = counts.get(f"idle_status_{status}", 0) + 1
    await asyncio.Event().wait()  # hold the connection without reading until the process ends
    writer.close()


async def _slowloris(index: int, port: int, counts: dict[str, int]) -> None:
    """Send a request head one line every few seconds, never finishing it; reconnect whenever cut."""
    source = f"127.0.1.{1 + index % 250}"
    while True:
        try:
            reader, writer = await _connect(source, port)
            counts["slowloris_connections"] += 1
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
            line = 0
            while not reader.at_eof():
                await writer.drain()
                try:
                    await asyncio.wait_for(reader.read(1024), SLOWLORIS_EVERY_S)
                except TimeoutError:
                    pass
                line += 1
                writer.write(f"X-Slow-{line}: a\r\n".encode())
        except (OSError, asyncio.IncompleteReadError):
            pass
        counts["slowloris_cut"] += 1
        await asyncio.sleep(0.5)


async def _attack(port: int, ready: Path, idle: int, slow: int) -> None:
    counts = {"slowloris_connections": 0, "slowloris_cut": 0}
    addresses = [f"127.0.0.{2 + index}" for index in range(IDLE_ADDRESSES)]
    tasks = [
        asyncio.create_task(_idle_stream(addresses[index % IDLE_ADDRESSES], port, counts)) for index in range(idle)
    ]
    tasks += [asyncio.create_task(_slowloris(index, port, counts)) for index in range(slow)]
    announced = False
    while True:
        await asyncio.sleep(1.0)
        answered = sum(value for key, value in counts.items() if key.startswith("idle_"))
        if not announced and answered >= idle or time.monotonic() > START + 20:
            announced = True
        ready.write_text(json.dumps({"all_idle_answered": announced, **counts}))


START = time.monotonic()


def attack_main(port: int, ready: Path, idle: int, slow: int) -> None:
    asyncio.run(_attack(port, ready, idle, slow))


# --------------------------------------------------------------------------- the prober and the viewer


class Prober(threading.Thread):
    """Asks a path again and again on a fresh connection; keeps every answer's time, or the failure."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.headers = headers
        self.samples: list[tuple[float, float | None]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            began = time.perf_counter()
            try:
                request = urllib.request.Request(self.url, headers=self.headers)
                with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as answer:
                    answer.read()
                taken: float | None = (time.perf_counter() - began) * 1000
            except (OSError, urllib.error.URLError):
                taken = None
            self.samples.append((time.time(), taken))
            self.stopping.wait(max(0.0, PROBE_EVERY_S - (time.perf_counter() - began)))

    def figures(self, window: common.Window) -> dict:
        inside = [taken for at, taken in self.samples if window.start <= at <= window.end]
        answered = [taken for taken in inside if taken is not None]
        return {
            "asked": len(inside),
            "failed": len(inside) - len(answered),
            "p50_ms": common.rounded(common.percentile(answered, 50), 1),
            "p95_ms": common.rounded(common.percentile(answered, 95), 1),
            "max_ms": common.rounded(max(answered, default=None), 1),
        }


def web_process(pipeline) -> tuple[float | None, int | None]:  # type: ignore[no-untyped-def]
    """RSS (MB) and thread count of the web's gunicorn worker."""
    from tests.harness import processes_with_marker

    worker = common.label_processes(processes_with_marker(pipeline.marker)).get("web-worker")
    if worker is None:
        return None, None
    threads = len(list(Path(f"/proc/{worker}/task").iterdir())) if Path(f"/proc/{worker}/task").exists() else None
    return common.rss_mb(worker), threads


def first_frame_after(fleet: dict, window: common.Window) -> float | None:
    """Seconds from the window's start to the viewer's first frame (negative: it came before)."""
    parts = [part for viewer in fleet.get("viewers", []) for part in viewer["parts"] if part[0] >= 0]
    return common.rounded(parts[0][2] - window.start, 2) if parts else None


def window_figures(pipeline, seconds: float, workdir: Path) -> dict:  # type: ignore[no-untyped-def]
    """Probe and watch for ``seconds``; the figures of that window."""
    auth = {"Authorization": f"Bearer {common.BENCH_TOKEN}"}
    health = Prober(f"{pipeline.base_url}/healthz", {})
    api = Prober(f"{pipeline.base_url}/api/cameras", auth)
    viewer = common.ViewerFleet(f"{pipeline.base_url}/stream/{CAMERA}.mjpg", 1, seconds + 4, workdir)
    health.start()
    api.start()
    time.sleep(2.0)  # the viewer's connection is made and its first frames are in
    window = common.Window(time.time(), time.time() + seconds)
    time.sleep(seconds)
    health.stopping.set()
    api.stopping.set()
    fleet = viewer.wait()
    stream = common.stream_figures(fleet, window, SOURCE_FPS)
    rss, threads = web_process(pipeline)
    return {
        "healthz": health.figures(window),
        "api": api.figures(window),
        "viewer_pct_of_source_fps": common.rounded(stream["pct_of_source_fps"]["min"], 1),
        "viewer_latency_p95_ms": common.rounded(stream["latency_ms"]["p95"], 1),
        "viewer_errors": stream["errors"],
        "viewer_first_frame_s": first_frame_after(fleet, window),
        "web_rss_mb": common.rounded(rss, 1),
        "web_threads": threads,
    }


def run_server(server: str, clip: Path, workdir: Path, seconds: float, idle: int, slow: int) -> dict:
    """One pipeline with this server model: a quiet window, then the same under attack."""
    from tests.harness import Pipeline, wait_for

    folder = workdir / server
    folder.mkdir()
    pipeline = Pipeline.configure(
        folder,
        source=f"{CAMERA}={clip}",
        faces_dir=str(common.REFERENCE),
        api_token=common.BENCH_TOKEN,
        workers="1",
        web_server=server,
    )
    out: dict = {"server": server}
    attacker = None
    try:
        pipeline.start()
        pipeline.wait_for_workers(1, timeout_s=120)
        out["quiet"] = window_figures(pipeline, seconds, folder)
        ready = folder / "attack.json"
        attacker = subprocess.Popen(
            [sys.executable, __file__, "attack", "--port", pipeline.env["PORT"], "--out", str(ready)]
            + ["--idle", str(idle), "--slowloris", str(slow)]
        )
        wait_for(lambda: ready.exists() and json.loads(ready.read_text())["all_idle_answered"], 40, "the attackers")
        out["attack"] = window_figures(pipeline, seconds, folder)
        out["attackers"] = json.loads(ready.read_text())
        attacker.kill()
        attacker.wait()
        pipeline.stop()
    finally:
        if attacker is not None and attacker.poll() is None:
            attacker.kill()
        pipeline.kill_leftovers()
    print(f"  {server}: {json.dumps(out)}", flush=True)
    return out


def met(phase: dict) -> bool:
    return (
        phase["healthz"]["failed"] == 0
        and phase["api"]["failed"] == 0
        and (phase["healthz"]["p95_ms"] or 1e9) < 100
        and (phase["api"]["p95_ms"] or 1e9) < 100
        and (phase["viewer_pct_of_source_fps"] or 0) >= 95
    )


def report(runs: list[dict]) -> None:
    rows = []
    for run in runs:
        for phase in ("quiet", "attack"):
            figures = run[phase]
            rows.append(
                [
                    run["server"],
                    phase,
                    f"{figures['healthz']['p50_ms']}/{figures['healthz']['p95_ms']}/{figures['healthz']['max_ms']}",
                    f"{figures['healthz']['failed']}/{figures['healthz']['asked']}",
                    f"{figures['api']['p50_ms']}/{figures['api']['p95_ms']}/{figures['api']['max_ms']}",
                    f"{figures['api']['failed']}/{figures['api']['asked']}",
                    figures["viewer_pct_of_source_fps"],
                    figures["web_rss_mb"],
                    figures["web_threads"],
                    "met" if met(figures) else "NO",
                ]
            )
    print(
        common.table(
            [
                "server",
                "phase",
                "healthz ms p50/p95/max",
                "failed",
                "api ms p50/p95/max",
                "failed",
                "viewer %fps",
                "web MB",
                "threads",
                "target",
            ],
            rows,
        )
    )
    for run in runs:
        print(f"{run['server']}: attackers {run['attackers']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    attack = sub.add_parser("attack", help="(internal) run the attackers against a port")
    attack.add_argument("--port", type=int, required=True)
    attack.add_argument("--out", type=Path, required=True)
    for command in (parser, attack):
        command.add_argument("--idle", type=int, default=IDLE_STREAMS, help="idle MJPEG connections")
        command.add_argument("--slowloris", type=int, default=SLOWLORIS, help="slowloris connections")
    parser.add_argument("--quick", action="store_true", help="10 s windows instead of 30 s")
    parser.add_argument("--servers", default=",".join(SERVERS), help="which server models, in order")
    args = parser.parse_args()
    if args.command == "attack":
        attack_main(args.port, args.out, args.idle, args.slowloris)
        return 0
    clip = common.CLIP
    if common.missing_data("slow_clients", clip, common.REFERENCE):
        return 0
    seconds = 10.0 if args.quick else 30.0
    load_before = common.load_average()
    with tempfile.TemporaryDirectory(prefix="facestream-slow-clients-") as scratch:
        runs = [
            run_server(server, clip, Path(scratch), seconds, args.idle, args.slowloris)
            for server in args.servers.split(",")
        ]
    report(runs)
    result = {
        "bench": "slow_clients",
        "window_s": seconds,
        "idle": args.idle,
        "slowloris": args.slowloris,
        "load_average_before": load_before,
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    common.emit_json(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
