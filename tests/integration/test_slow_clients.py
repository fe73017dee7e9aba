"""Slow and idle clients against the real web (gevent, on loopback): cut when they overstay, never in others' way.

Short timeouts (HEADER_TIMEOUT_S=1, STREAM_SEND_TIMEOUT_S=2) so the test
sees them act; how much load the server takes is measured by
bench/slow_clients.py, not here.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Pipeline, running_pipeline, wait_for

pytestmark = pytest.mark.integration

TOKEN = "slow-clients-test-token-0123456789"
IDLE_STREAMS = 24
SLOW_HEADS = 40


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("slow-clients")
    (workdir / "faces").mkdir()
    clip = data_dir / "video_hamilton" / "short_hamilton_clip.mp4"
    with running_pipeline(
        workdir, source=f"cam={clip}", workers="1", api_token=TOKEN, header_timeout_s="1", stream_send_timeout_s="2"
    ) as running:
        yield running


def connect(pipeline: Pipeline, source: str = "127.0.0.1", receive_buffer: int | None = None) -> socket.socket:
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.bind((source, 0))
    client.connect(("127.0.0.1", int(pipeline.env["PORT"])))
    return client


def closed_by_server(client: socket.socket, timeout_s: float) -> bool:
    """Read (and drop) whatever is buffered until the server's end of file, or give up after the timeout."""
    client.settimeout(timeout_s)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if not client.recv(1 << 20):
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return False


def test_a_request_head_that_trickles_is_cut(pipeline: Pipeline) -> None:
    client = connect(pipeline)
    client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
    began = time.monotonic()
    assert closed_by_server(client, 10), "the server still waits for the head after 10 s"
    assert time.monotonic() - began < 5, "cut well after HEADER_TIMEOUT_S"
    client.close()


def test_a_viewer_that_stops_reading_is_let_go_and_logged_in_one_line(pipeline: Pipeline) -> None:
    client = connect(pipeline, receive_buffer=4096)
    client.sendall(
        f"GET /stream/cam.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    )
    assert client.recv(64).startswith(b"HTTP/1.1 200")
    wait_for(lambda: "took nothing for STREAM_SEND_TIMEOUT_S" in pipeline.log("web"), 20, "the idle viewer let go")
    assert closed_by_server(client, 10)
    client.close()
    assert "TimeoutError" not in pipeline.log("web"), "a dropped viewer is one line, not a traceback"


def test_idle_streams_and_slow_heads_leave_the_others_served(pipeline: Pipeline) -> None:
    """Many idle viewers (from several addresses, under the per-client cap) and trickling heads at once:
    the health check, the API and a real viewer are still answered."""
    request = f"GET /stream/cam.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    held = []
    try:
        for index in range(IDLE_STREAMS):
            idle = connect(pipeline, source=f"127.0.0.{2 + index // 4}", receive_buffer=4096)
            idle.sendall(request)
            held.append(idle)
        for index in range(SLOW_HEADS):
            slow = connect(pipeline, source=f"127.0.1.{1 + index}")
            slow.sendall(b"GET / HTTP/1.1\r\n")
            held.append(slow)
        assert pipeline.get("/healthz")[0] == 200
        assert pipeline.get_json("/api/cameras")["cameras"][0]["id"] == "cam"
        parts = list(pipeline.stream("cam", 10))
        assert len({part.frame_id for part in parts}) == 10 and all(part.frame_id >= 0 for part in parts)
    finally:
        for client in held:
            client.close()
