"""Start the real facestream services for a test, and talk to them over real sockets.

The pipeline is started the way a user starts it (``python -m services.launch``
under supervisord), on free loopback ports and temporary folders, so a test
exercises the same processes and configuration as ``make run``. Every process
carries a marker in its environment so a test can prove none is left behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import msgpack
import zmq

from shared.bus.schema import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESTREAM_TEST_DATA", ROOT.parent / "shared" / "data")).resolve()
MARKER_VARIABLE = "FACESTREAM_TEST_RUN"

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout_s: float, what: str, poll_s: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # the condition may fail until the service is up
            last_error = error
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last error: {last_error})")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count < 65535 and all(_bindable(first + offset) for offset in range(count)):
            return first
    raise RuntimeError("no block of free ports found")


def processes_with_marker(marker: str) -> list[int]:
    """Pids of live processes whose environment carries this test run's marker."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


@dataclass
class MjpegPart:
    """One part of an MJPEG stream, as a client receives it."""

    frame_id: int
    capture_ts: float
    received_ts: float
    jpeg: bytes


def read_mjpeg(
    url: str, count: int, timeout_s: float = 30.0, headers: dict[str, str] | None = None
) -> Iterator[MjpegPart]:
    """Yield the next ``count`` parts of an MJPEG stream, parsed from the raw bytes."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout_s) as response:
        for _ in range(count):
            headers: dict[str, str] = {}
            line = response.readline()
            while line.strip() == b"":
                line = response.readline()
            if not line.startswith(b"--"):
                raise AssertionError(f"expected a boundary, got {line[:80]!r}")
            while True:
                line = response.readline().strip()
                if not line:
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            jpeg = response.read(int(headers["content-length"]))
            yield MjpegPart(int(headers["x-frame-id"]), float(headers["x-capture-time"]), time.time(), jpeg)


def read_events(url: str, timeout_s: float = 30.0, headers: dict[str, str] | None = None) -> Iterator[tuple[str, dict]]:
    """Yield each server-sent event of a stream as (event name, data parsed as JSON), parsed from the raw lines."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout_s) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream"), response.headers["Content-Type"]
        name, data = "message", ""
        for raw in response:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line:
                if data:
                    yield name, json.loads(data)
                name, data = "message", ""
            elif line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data += line[len("data:") :].strip()


BUILD_LEFTOVERS = ("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".venv/")


def stop_with_parent() -> None:
    """In the launched child: when the test process dies (a killed run), supervisord is sent SIGTERM and stops
    every service, instead of a whole pipeline running on unseen beside the next tests."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def repository_files() -> set[str]:
    """The files git sees untracked or ignored in the repository (bytecode and tool caches aside): services
    started from it must write only to their configured folders, never into it."""
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    new_files = [line for line in listed if line.startswith(("??", "!!"))]  # an edit of a tracked file is a person's
    return {line for line in new_files if not any(part in line for part in BUILD_LEFTOVERS)}


@dataclass
class Pipeline:
    """One running facestream: supervisord and every service, on loopback."""

    workdir: Path
    env: dict[str, str]
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen | None = None
    repository_before: set[str] = field(default_factory=set)
    """The repository's untracked and ignored files when the pipeline started (see repository_files)."""
    tls: ssl.SSLContext | None = None
    """How to trust the web's certificate, when it serves HTTPS (TLS_CERT)."""

    @classmethod
    def configure(cls, workdir: Path, **settings: str) -> Pipeline:
        """Settings as environment variables; ports and folders default to fresh ones under ``workdir``."""
        env = {key: value for key, value in os.environ.items() if key not in ("CONFIG_FILE",)}
        env.update(
            DATA_DIR=str(workdir / "data"),
            FACES_DIR=str(workdir / "faces"),
            BUS_PORT=str(free_port_block(3)),
            PORT=str(free_port_block(1)),
            BIND="127.0.0.1",
            CONFIG_FILE=str(workdir / "no-config.toml"),
            PYTHONUNBUFFERED="1",
        )
        env.update({key.upper(): str(value) for key, value in settings.items()})
        pipeline = cls(workdir, env)
        pipeline.env[MARKER_VARIABLE] = pipeline.marker
        return pipeline

    @property
    def base_url(self) -> str:
        scheme = "https" if self.env.get("TLS_CERT") else "http"
        return f"{scheme}://127.0.0.1:{self.env['PORT']}"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def bus_port(self) -> int:
        return int(self.env["BUS_PORT"])

    def start(self) -> None:
        """Launch everything and wait until the web answers healthy."""
        self.repository_before = repository_files()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.launch", "--logs", str(self.logs)],
            cwd=ROOT,
            env=self.env,
            stdout=(self.workdir / "launch.out").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )
        wait_for(lambda: self.get_json("/healthz")["status"] == "ok", 60, "the web service to report healthy")

    def wait_for_workers(self, count: int, timeout_s: float = 60.0) -> None:
        """Wait until the dispatcher hears from ``count`` inference workers (their models are loaded)."""

        def workers_known() -> bool:
            for line in self.get("/metrics")[1].decode().splitlines():
                if line.startswith("facestream_workers "):
                    return float(line.split()[1]) >= count
            return False

        wait_for(workers_known, timeout_s, f"{count} inference workers to ask for frames")

    @property
    def auth(self) -> dict[str, str]:
        """The header that lets a test in, as a program: the API token (set, or the one the launcher made)."""
        token = self.env.get("API_TOKEN")
        if not token:
            try:
                token = (Path(self.env["DATA_DIR"]) / "api-token").read_text().strip()
            except OSError:
                return {}
        return {"Authorization": f"Bearer {token}"}

    def stream(self, camera: str, count: int, query: str = "") -> Iterator[MjpegPart]:
        """The next ``count`` parts of a camera's MJPEG stream, asked for with the token."""
        return read_mjpeg(f"{self.base_url}/stream/{camera}.mjpg{query}", count, headers=self.auth)

    def events(self, timeout_s: float = 30.0) -> Iterator[tuple[str, dict]]:
        """The live page's events channel, asked for with the token."""
        return read_events(f"{self.base_url}/api/events", timeout_s, headers=self.auth)

    def get(self, path: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
        """Status and body of a GET with the token, whatever the status."""
        request = urllib.request.Request(self.base_url + path, headers=self.auth)
        try:
            with urllib.request.urlopen(request, timeout=timeout_s, context=self.tls) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get_json(self, path: str) -> dict:
        """The JSON body of a GET."""
        return json.loads(self.get(path)[1])

    def log(self, program: str) -> str:
        """Everything a service (or all of a prefix's processes, e.g. 'infer') has logged so far."""
        return "".join(path.read_text(errors="replace") for path in sorted(self.logs.glob(f"{program}*.log")))

    def supervisorctl(self, *args: str) -> str:
        """Run supervisorctl against this pipeline's supervisord."""
        conf = Path(self.env["DATA_DIR"]) / "run" / "supervisord.conf"
        command = [str(Path(sys.executable).with_name("supervisorctl")), "-c", str(conf), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=30, env=self.env).stdout

    def add_account(self, name: str, role: str, password: str) -> None:
        """Another login, made as a user would: the accounts CLI on this installation's data folder."""
        made = subprocess.run(
            [sys.executable, "-m", "services.accounts", "add", name, "--role", role, "--password-stdin"],
            input=password + "\n", capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=30,
        )  # fmt: skip
        assert made.returncode == 0, made

    def stop(self, timeout_s: float = 30.0) -> int:
        """Press Ctrl-C (SIGINT to supervisord) and wait for it to exit; its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)

    def kill_leftovers(self) -> None:
        """Last resort after a failed test: no process of this run may outlive it."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in processes_with_marker(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@contextmanager
def running_pipeline(
    workdir: Path, workers_ready: int = 0, workers_timeout_s: float = 60.0, **settings: str
) -> Iterator[Pipeline]:
    """A started pipeline for the block (once ``workers_ready`` workers ask for frames), stopped the way a user
    stops it at the end; whatever happens, none of its processes is left behind."""
    pipeline = Pipeline.configure(workdir, **settings)
    try:
        pipeline.start()
        if workers_ready:
            pipeline.wait_for_workers(workers_ready, timeout_s=workers_timeout_s)
        yield pipeline
        pipeline.stop()
    finally:
        pipeline.kill_leftovers()


class SightingRecorder(threading.Thread):
    """Every ``sightings.`` message on the bus, read with nothing but pyzmq and msgpack as another program would."""

    def __init__(self, bus_port: int) -> None:
        super().__init__(daemon=True)
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._socket = zmq.Context.instance().socket(zmq.SUB)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"sightings.")
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(f"tcp://127.0.0.1:{bus_port + 1}")

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self._socket.poll(100):
                topic, body = self._socket.recv_multipart()
                message = msgpack.unpackb(body)
                assert topic.decode() == f"sightings.{message['camera']}"
                with self._lock:
                    self.messages.append(message)
        self._socket.close()

    def seen(self, event: str, **fields: object) -> list[dict]:
        with self._lock:
            return [m for m in self.messages if m["event"] == event and all(m[k] == v for k, v in fields.items())]

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


class ResultRecorder(threading.Thread):
    """Subscribes to every result on the broker with nothing but pyzmq and msgpack, as another program would."""

    def __init__(self, bus_port: int, keep_all: bool = False) -> None:
        super().__init__(daemon=True)
        self._lock = threading.Lock()
        self._results: list[tuple[float, dict]] = []
        self._stop_event = threading.Event()
        self._socket = zmq.Context.instance().socket(zmq.SUB)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"faces.")
        self._socket.setsockopt(zmq.LINGER, 0)
        if keep_all:  # a test that scores every result must not lose any to the subscriber's queue limit
            self._socket.setsockopt(zmq.RCVHWM, 100_000)
        self._socket.connect(f"tcp://127.0.0.1:{bus_port + 1}")

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self._socket.poll(100):
                parts = self._socket.recv_multipart()
                try:
                    if len(parts[1]) > MAX_BODY_BYTES:  # a fuzz test's giant body: skipped as the services skip it
                        continue
                    result = msgpack.unpackb(parts[1])
                    if result.get("v") != 1:
                        continue
                except (IndexError, ValueError, AttributeError):
                    continue  # a well-behaved subscriber skips what it cannot read
                with self._lock:
                    self._results.append((time.time(), result))
        self._socket.close()

    def results(self, camera: str, since: float = 0.0) -> list[tuple[float, dict]]:
        """(arrival time, result) of one camera, received after ``since``."""
        with self._lock:
            return [(at, result) for at, result in self._results if result.get("camera") == camera and at >= since]

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def write_y4m(clip: Path, path: Path, width: int, seconds: float) -> Path:
    """The first seconds of a clip as a YUV4MPEG2 file (4:2:0), the format Chromium's fake webcam plays in a loop."""
    import cv2

    video = cv2.VideoCapture(str(clip))
    fps = video.get(cv2.CAP_PROP_FPS) or 30.0
    with path.open("wb") as out:
        for index in range(round(fps * seconds)):
            ok, frame = video.read()
            if not ok:
                break
            height = round(frame.shape[0] * width / frame.shape[1] / 2) * 2
            frame = cv2.resize(frame, (width, height))
            if index == 0:
                out.write(f"YUV4MPEG2 W{width} H{height} F{round(fps * 1000)}:1000 Ip A1:1 C420jpeg\n".encode())
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    video.release()
    return path
