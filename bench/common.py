"""Shared helpers of the benchmark scripts: data paths, statistics, tables, /proc readings, viewers, bus results.

Why it exists: ``bench/pipeline.py``, ``bench/seed_baseline.py`` and
``bench/gallery.py`` measure the same things the same way (an MJPEG client
that timestamps every part, a bus subscriber that timestamps every result,
CPU seconds and RSS read from ``/proc``), so the figures they print can be
compared.

It is also a small command-line tool: the viewer fleet runs in a process of
its own so the clients' own work (parsing megabytes of JPEG per second) never
holds the GIL of the process that timestamps bus results::

    .venv/bin/python bench/common.py viewers --url http://127.0.0.1:8080/stream/cam0.mjpg \\
        --count 10 --seconds 20 --out /tmp/parts.json

writes, per viewer, every part received as ``[frame_id, capture_ts, received_ts, bytes]``.
Nothing else here writes files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH_TOKEN = "facestream-bench-token-0123456789"
"""The API token of the pipelines a bench starts: every stream and API call needs a credential."""
REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CLIP = DATA / "video_hamilton" / "short_hamilton_clip.mp4"
REFERENCE = DATA / "video_hamilton" / "reference"
LFW_IMAGES = DATA / "lfw_dev" / "images"
KNOWN = "Lin_Manuel_Miranda"
RESULTS_DIR = REPO / "bench" / "results"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# --------------------------------------------------------------------------- data, output


def missing_data(script: str, *paths: Path) -> bool:
    """True (after saying so) when the shared test data is absent: the caller exits 0."""
    for path in (DATA, *paths):
        if not path.exists():
            print(
                f"{script}: skipped, test data not found: {path} "
                f"(expected ../shared/data next to the repository, at {DATA})"
            )
            return True
    return False


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def rounded(value: Any, digits: int = 2) -> Any:
    """Round floats (recursively in dicts and lists) for printing and JSON."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, digits)
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item, digits) for item in value]
    return value


def fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    """A table cell: '-' for None, fixed digits for floats."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned plain-text table; numbers right-aligned, text left-aligned."""
    cells = [[str(cell) for cell in header]] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def numeric(text: str) -> bool:
        return re.fullmatch(r"[+-]?\d+(\.\d+)?[%sxm]*", text) is not None

    lines = []
    for index, row in enumerate(cells):
        parts = [
            cell.rjust(width) if index and numeric(cell) else cell.ljust(width) for cell, width in zip(row, widths)
        ]
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def save_and_emit(path: Path, result: dict) -> None:
    """Keep the figures in ``path`` (rounded, for bench/results/) and print them as the last line, ``JSON {...}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rounded(result, 4), indent=2) + "\n")
    emit_json(result)


def emit_json(payload: dict) -> None:
    """The final machine-readable line every script prints."""
    print("JSON " + json.dumps(rounded(payload, 4), separators=(",", ":")), flush=True)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (2 cores here: above 2 means others are busy)."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --------------------------------------------------------------------------- /proc

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), in seconds; None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process (VmRSS), in MB; None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def parent_pid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def environ_value(pid: int, key: str) -> str | None:
    try:
        for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if entry.startswith(key.encode() + b"="):
                return entry.split(b"=", 1)[1].decode(errors="replace")
    except OSError:
        return None
    return None


def label_processes(pids: Iterable[int]) -> dict[str, int]:
    """Name each facestream process: supervisord, broker, capture-<cam>, infer-NN, web-master, web-worker.

    Services get their supervisor program name from SUPERVISOR_PROCESS_NAME; gunicorn's
    worker is forked from the web process (same command line), so it is told apart by its parent.
    """
    pids = list(pids)
    labels: dict[str, int] = {}
    web = [pid for pid in pids if "services.web" in cmdline(pid)]
    for pid in pids:
        command = cmdline(pid)
        if pid in web:
            name = "web-worker" if parent_pid(pid) in web else "web-master"
        elif "supervisord" in command:
            name = "supervisord"
        else:
            name = environ_value(pid, "SUPERVISOR_PROCESS_NAME") or command.split(" -m ")[-1].split()[0]
        while name in labels:
            name += "+"
        labels[name] = pid
    return labels


def cpu_snapshot(labels: dict[str, int]) -> dict[str, float | None]:
    return {name: cpu_seconds(pid) for name, pid in labels.items()}


def cpu_cores(before: dict[str, float | None], after: dict[str, float | None], seconds: float) -> dict[str, float]:
    """CPU used per process between two snapshots, in cores (CPU seconds per second)."""
    cores = {}
    for name, start in before.items():
        end = after.get(name)
        if start is not None and end is not None and seconds > 0:
            cores[name] = (end - start) / seconds
    return cores


def rss_snapshot(labels: dict[str, int]) -> dict[str, float | None]:
    return {name: rss_mb(pid) for name, pid in labels.items()}


# --------------------------------------------------------------------------- MJPEG viewers


class Dechunker:
    """Undo HTTP/1.1 chunked transfer encoding, incrementally (Flask's dev server chunks streams)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._left = 0  # payload bytes left in the current chunk
        self._skip = 0  # CRLF bytes to skip after a chunk
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        while self._buffer and not self.ended:
            if self._skip:
                taken = min(self._skip, len(self._buffer))
                del self._buffer[:taken]
                self._skip -= taken
                continue
            if self._left:
                taken = min(self._left, len(self._buffer))
                out += self._buffer[:taken]
                del self._buffer[:taken]
                self._left -= taken
                if not self._left:
                    self._skip = 2
                continue
            end = self._buffer.find(b"\r\n")
            if end < 0:
                break
            size = int(bytes(self._buffer[:end]).split(b";")[0], 16)
            del self._buffer[: end + 2]
            if size == 0:
                self.ended = True
            self._left = size
        return bytes(out)


class MjpegParser:
    """Split a multipart/x-mixed-replace byte stream into parts: (frame_id, capture_ts, jpeg bytes)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._body: tuple[int, float, int] | None = None

    def feed(self, data: bytes) -> list[tuple[int, float, int]]:
        self._buffer += data
        parts = []
        while True:
            if self._body is None:
                while self._buffer[:2] == b"\r\n":
                    del self._buffer[:2]
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                headers = {}
                for line in bytes(self._buffer[:end]).split(b"\r\n")[1:]:  # the first is the boundary
                    key, _, value = line.partition(b":")
                    headers[key.strip().lower()] = value.strip()
                del self._buffer[: end + 4]
                self._body = (
                    int(headers.get(b"x-frame-id", b"-1")),
                    float(headers.get(b"x-capture-time", b"nan")),
                    int(headers[b"content-length"]),
                )
            frame_id, capture_ts, length = self._body
            if len(self._buffer) < length:
                break
            del self._buffer[:length]
            self._body = None
            parts.append((frame_id, capture_ts, length))
        return parts


async def _view(url: str, deadline: float, record: dict) -> None:
    """One viewer: GET the stream (HTTP/1.0, as a plain client), timestamp each part until the deadline."""
    split = urlsplit(url)
    path = split.path + (f"?{split.query}" if split.query else "")
    parts: list[list] = record["parts"]
    try:
        reader, writer = await asyncio.open_connection(split.hostname, split.port, limit=1 << 20)
    except OSError as error:
        record["error"] = f"connect: {error}"
        return
    record["connected"] = time.time()
    try:
        writer.write(
            f"GET {path} HTTP/1.0\r\nHost: {split.netloc}\r\nUser-Agent: facestream-bench\r\n"
            f"Authorization: Bearer {BENCH_TOKEN}\r\n\r\n".encode()
        )
        async with asyncio.timeout(max(0.0, deadline - time.time())):
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0]
            if b" 200 " not in status + b" ":
                record["error"] = f"status {status.decode(errors='replace')}"
                return
            dechunk = Dechunker() if b"transfer-encoding: chunked" in head.lower() else None
            parser = MjpegParser()
            while True:
                data = await reader.read(1 << 18)
                if not data:
                    record["error"] = "server closed the stream"
                    return
                now = time.time()
                if dechunk is not None:
                    data = dechunk.feed(data)
                for frame_id, capture_ts, length in parser.feed(data):
                    parts.append([frame_id, capture_ts, now, length])
    except TimeoutError:
        pass  # the deadline: the normal end
    except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as error:
        record["error"] = f"{type(error).__name__}: {error}"
    finally:
        writer.close()


async def _fleet(url: str, count: int, seconds: float) -> list[dict]:
    deadline = time.time() + seconds
    records = [{"parts": [], "error": None, "connected": None} for _ in range(count)]
    await asyncio.gather(*(_view(url, deadline, record) for record in records))
    return records


def run_viewers(url: str, count: int, seconds: float) -> dict:
    """Run ``count`` concurrent viewers in this process (one asyncio loop) for ``seconds``."""
    started = time.time()
    cpu_before = time.process_time()
    records = asyncio.run(_fleet(url, count, seconds))
    return {
        "url": url,
        "started": started,
        "ended": time.time(),
        "cpu_s": time.process_time() - cpu_before,
        "viewers": records,
    }


@dataclass
class ViewerFleet:
    """``count`` MJPEG viewers in a child process (``bench/common.py viewers``), started now."""

    url: str
    count: int
    seconds: float
    workdir: Path
    process: subprocess.Popen | None = None
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        self.out = self.workdir / f"viewers-{self.count}-{time.time_ns()}.json"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "viewers",
                "--url",
                self.url,
                "--count",
                str(self.count),
                "--seconds",
                str(self.seconds),
                "--out",
                str(self.out),
            ],
            cwd=REPO,
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self) -> dict:
        assert self.process is not None
        try:
            self.process.wait(self.seconds + 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not self.out.exists():
            return {"viewers": [], "error": f"viewer process exited {self.process.returncode} without results"}
        data = json.loads(self.out.read_text())
        self.out.unlink()
        return data


# --------------------------------------------------------------------------- stream figures


@dataclass
class Window:
    """The measured part of a phase, in Unix seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    def thirds(self) -> tuple[Window, Window]:
        third = self.seconds / 3.0
        return Window(self.start, self.start + third), Window(self.end - third, self.end)


def live_parts(viewer: dict, window: Window) -> list[list]:
    """The parts of one viewer received inside the window (no-signal cards excluded)."""
    return [part for part in viewer["parts"] if window.start <= part[2] <= window.end and part[0] >= 0]


def stream_figures(fleet: dict, window: Window, source_fps: float) -> dict:
    """Latency (received - X-Capture-Time) and frames received per viewer, over a window."""
    viewers = fleet.get("viewers", [])
    latencies = []
    first_third, last_third = window.thirds()
    early, late = [], []
    per_viewer_fps, per_viewer_coverage, bytes_received = [], [], 0
    errors = [viewer["error"] for viewer in viewers if viewer.get("error")]
    for viewer in viewers:
        parts = live_parts(viewer, window)
        per_viewer_fps.append(len(parts) / window.seconds if window.seconds else 0.0)
        if len(parts) >= 2:
            span = parts[-1][0] - parts[0][0] + 1
            per_viewer_coverage.append(100.0 * len(parts) / span if span > 0 else 0.0)
        else:
            per_viewer_coverage.append(0.0)
        for _frame_id, capture_ts, received_ts, length in parts:
            latency = (received_ts - capture_ts) * 1000.0
            latencies.append(latency)
            bytes_received += length
            if received_ts <= first_third.end:
                early.append(latency)
            elif received_ts >= last_third.start:
                late.append(latency)
    pct = [100.0 * fps / source_fps for fps in per_viewer_fps] if source_fps else []
    return {
        "viewers": len(viewers),
        "viewers_with_errors": len(errors),
        "errors": sorted(set(errors))[:5],
        "window_s": window.seconds,
        "parts": len(latencies),
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies, default=None),
            "first_third_p50": percentile(early, 50),
            "first_third_p95": percentile(early, 95),
            "last_third_p50": percentile(late, 50),
            "last_third_p95": percentile(late, 95),
        },
        "fps_per_viewer": {
            "min": min(per_viewer_fps, default=None),
            "median": percentile(per_viewer_fps, 50),
            "max": max(per_viewer_fps, default=None),
        },
        "pct_of_source_fps": {"min": min(pct, default=None), "median": percentile(pct, 50)},
        "pct_of_frame_ids_seen": {
            "min": min(per_viewer_coverage, default=None),
            "median": percentile(per_viewer_coverage, 50),
        },
        "mbytes_per_s_total": bytes_received / 1e6 / window.seconds if window.seconds else None,
        "client_cpu_s": fleet.get("cpu_s"),
    }


def box_ages(results: Sequence[tuple[float, float]], parts: Sequence[Sequence[float]]) -> list[float]:
    """For each result (capture_ts, available_ts), ms from its frame's capture until a viewer got its boxes.

    The boxes of a result are taken to be first shown on the first MJPEG part that
    the viewer received after the result became available (to the web, for the
    pipeline: the time our own subscriber received it from the same XPUB socket;
    to the generator, for the seed: when its processing thread finished) and whose
    frame is not older than the result's frame. Error: at most one frame interval
    (a part in flight when the result arrived is counted as carrying it).
    """
    import bisect

    ordered = sorted((part[2], part[1]) for part in parts if part[0] >= 0)
    received = [part[0] for part in ordered]
    ages = []
    for capture_ts, available_ts in results:
        index = bisect.bisect_left(received, available_ts)
        while index < len(ordered) and ordered[index][1] < capture_ts - 1e-6:
            index += 1
        if index < len(ordered):
            ages.append((ordered[index][0] - capture_ts) * 1000.0)
    return ages


# --------------------------------------------------------------------------- bus results


class BusRecorder(threading.Thread):
    """Subscribes to results (and the dispatcher's stats) with pyzmq + msgpack, timestamping each arrival."""

    def __init__(self, bus_port: int, prefixes: Sequence[bytes] = (b"faces.", b"stats.", b"frames.")) -> None:
        super().__init__(daemon=True, name="bus-recorder")
        import zmq

        self._zmq = zmq
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self.messages: list[tuple[float, str, dict]] = []
        self._socket = zmq.Context.instance().socket(zmq.SUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.RCVHWM, 10000)
        for prefix in prefixes:
            self._socket.setsockopt(zmq.SUBSCRIBE, prefix)
        self._socket.connect(f"tcp://127.0.0.1:{bus_port + 1}")

    def run(self) -> None:
        import msgpack

        while not self._stop_event.is_set():
            if not self._socket.poll(100):
                continue
            parts = self._socket.recv_multipart(copy=False)
            arrived = time.time()
            try:
                body = msgpack.unpackb(parts[1].buffer, raw=False)
                if len(parts) == 3 and isinstance(body, dict):  # a frame: keep its header only, not the JPEG
                    body = {"v": body.get("v"), "frame_id": body.get("frame_id"), "ts": body.get("ts")}
                if not isinstance(body, dict) or body.get("v") != 1:
                    continue
            except (IndexError, ValueError):
                continue
            with self._lock:
                self.messages.append((arrived, bytes(parts[0].buffer).decode(errors="replace"), body))
        self._socket.close()

    def results(self, camera: str, window: Window | None = None) -> list[tuple[float, dict]]:
        topic = f"faces.{camera}"
        with self._lock:
            return [
                (at, body)
                for at, kind, body in self.messages
                if kind == topic and (window is None or window.start <= at <= window.end)
            ]

    def frame_latency_ms(self, camera: str, window: Window) -> dict:
        """Capture-to-bus-subscriber latency of the frames published in the window (the part before the web)."""
        topic = f"frames.{camera}"
        with self._lock:
            latencies = [
                (at - body["ts"]) * 1000.0
                for at, kind, body in self.messages
                if kind == topic and window.start <= at <= window.end and body.get("ts")
            ]
        return {
            "frames": len(latencies),
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies, default=None),
        }

    def last_stats(self) -> dict | None:
        with self._lock:
            for _, kind, body in reversed(self.messages):
                if kind.startswith("stats."):
                    return body
        return None

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def result_figures(results: list[tuple[float, dict]], window: Window, known: str = KNOWN) -> dict:
    """Analysed frames per second, where the worker's time went, and how often the known face is named."""
    with_face = [body for _, body in results if body["faces"]]
    named = [body for body in with_face if any(face["name"] == known for face in body["faces"])]
    timings: dict[str, dict] = {}
    for key in ("queue_ms", "decode_ms", "detect_ms", "encode_ms", "match_ms", "total_ms"):
        values = [body["timings"].get(key, 0.0) for _, body in results]
        timings[key] = {"p50": percentile(values, 50), "mean": sum(values) / len(values) if values else None}
    bus_age = [(at - body["capture_ts"]) * 1000.0 for at, body in results]
    workers: dict[str, int] = {}
    for _, body in results:
        workers[body["worker"]] = workers.get(body["worker"], 0) + 1
    encoded = [body.get("encoded") for _, body in results if body.get("encoded") is not None]
    faces = sum(len(body["faces"]) for _, body in results)
    return {
        "results": len(results),
        "faces": faces,
        "faces_encoded": sum(encoded) if encoded else None,
        "analysed_fps": len(results) / window.seconds if window.seconds else None,
        "frames_with_face": len(with_face),
        "frames_naming_known": len(named),
        "named_fraction": len(named) / len(with_face) if with_face else None,
        "result_age_on_bus_ms": {"p50": percentile(bus_age, 50), "p95": percentile(bus_age, 95)},
        "timings_ms": timings,
        "per_worker": workers,
    }


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    viewers = sub.add_parser("viewers", help="run concurrent MJPEG viewers and write what they received")
    viewers.add_argument("--url", required=True)
    viewers.add_argument("--count", type=int, default=1)
    viewers.add_argument("--seconds", type=float, default=10.0)
    viewers.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "viewers":
        data = run_viewers(args.url, args.count, args.seconds)
        temporary = args.out.with_suffix(".partial")
        temporary.write_text(json.dumps(data))
        temporary.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
