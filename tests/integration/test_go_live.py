"""Go live without a browser: a program hosts a camera over the WebSocket contract, against the real services.

The host sends the hamilton clip's frames as JPEG binary messages, one after
the other's ack; the known face is named in the results pushed back, the
camera is listed, streamed and answered like a server camera; a second host
of the same name is refused; a host that leaves takes its camera offline; a
host that floods frames and never reads an ack does not grow the web's memory.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.harness import Pipeline, processes_with_marker, running_pipeline, wait_for

pytestmark = pytest.mark.integration

TOKEN = "go-live-test-token-0123456789"
KNOWN = "Lin_Manuel_Miranda"
FLOOD_S = 6.0
MAX_GROWTH_MB = 25.0


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("go-live")
    with running_pipeline(
        workdir,
        source="none",
        faces_dir=str(data_dir / "video_hamilton" / "reference"),
        workers="1",
        api_token=TOKEN,
        workers_ready=1,
        workers_timeout_s=120,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def frames(data_dir: Path) -> list[bytes]:
    """Every frame of the clip as JPEG, as a browser would send them."""
    video = cv2.VideoCapture(str(data_dir / "video_hamilton" / "short_hamilton_clip.mp4"))
    jpegs = []
    while (read := video.read())[0]:
        jpegs.append(cv2.imencode(".jpg", read[1])[1].tobytes())
    video.release()
    assert len(jpegs) > 200, "the clip is shorter than expected"
    return jpegs


def host(pipeline: Pipeline, camera: str, token: str | None = TOKEN) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"ws://127.0.0.1:{pipeline.env['PORT']}/ws/publish/{camera}"
    return connect(url, additional_headers=headers, open_timeout=10, max_size=2**20)


def web_worker_rss_mb(pipeline: Pipeline) -> float:
    """The gunicorn worker's resident memory, read from /proc."""
    web = [
        pid
        for pid in processes_with_marker(pipeline.marker)
        if "services.web" in Path(f"/proc/{pid}/cmdline").read_text()
    ]
    worker = max(web)  # forked after the master
    for line in Path(f"/proc/{worker}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def next_error(socket, timeout_s: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
    """The next error message from the server, past acks, results and status; fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while (message := json.loads(socket.recv(timeout=timeout_s))).get("type") != "error":
        if time.monotonic() > deadline:
            pytest.fail(f"no error message within {timeout_s:.0f} s; the last message: {message}")
    return message


def test_a_program_hosts_a_camera_that_is_named_listed_and_streamed(pipeline: Pipeline, frames: list[bytes]) -> None:
    names: set[str] = set()
    acks: list[int] = []
    with host(pipeline, "laptop") as socket:
        deadline = time.monotonic() + 60
        sent = 0
        while KNOWN not in names or sent < 60:
            assert time.monotonic() < deadline, f"not named in 60 s; names seen: {names}"
            socket.send(frames[sent % len(frames)])
            sent += 1
            while True:  # the next frame goes after this one's ack: back-pressure as the page does it
                message = json.loads(socket.recv(timeout=10))
                if "ack" in message:
                    acks.append(message["ack"])
                    break
                if message.get("type") == "result":
                    assert message["camera"] == "laptop"
                    names |= {face["name"] for face in message["faces"]}
        assert acks == list(range(len(acks))), "every frame acked once, in order"

        cameras = {camera["id"]: camera for camera in pipeline.get_json("/api/cameras")["cameras"]}
        assert cameras["laptop"]["hosted"] and cameras["laptop"]["source"] == "browser"
        assert cameras["laptop"]["status"] == "live" and cameras["laptop"]["resolution"] == [640, 360]

        def named_in_the_api() -> bool:
            """The API's newest result names him (another frame goes out meanwhile: he may look away on one)."""
            nonlocal sent
            socket.send(frames[sent % len(frames)])  # the next frame each time, not the same one again and again
            sent += 1
            while "ack" not in json.loads(socket.recv(timeout=10)):
                pass
            return any(face["name"] == KNOWN for face in pipeline.get_json("/api/results/laptop")["faces"])

        wait_for(named_in_the_api, 30, "/api/results/laptop to name him")
        socket.send(frames[0])  # the stream shows what the host sends
        part = next(iter(pipeline.stream("laptop", 1, "?overlay=0")))
        assert part.jpeg[:2] == b"\xff\xd8" and part.frame_id >= 0

        # Not a JPEG: said, skipped, and the session goes on.
        socket.send(b"this is not a picture")
        message = next_error(socket)
        assert message["skipped"] and "JPEG" in message["error"], message

        # A few kB claiming 30,000 x 30,000 pixels: said, skipped, never decoded by a worker or a viewer.
        sof = frames[0].index(b"\xff\xc0") + 5
        bomb = frames[0][:sof] + (30_000).to_bytes(2, "big") * 2 + frames[0][sof + 4 :]
        socket.send(bomb)
        message = next_error(socket)  # none comes if the frame was taken: the wait times out
        assert message["skipped"] and "megapixels" in message["error"], message

        # The same name from a second host: refused, with the reason.
        with host(pipeline, "laptop") as second:
            refusal = json.loads(second.recv(timeout=10))
            assert refusal["type"] == "error" and "taken" in refusal["error"]
            with pytest.raises(ConnectionClosed):
                second.recv(timeout=10)

    # The host left: the camera is offline within 2 s, and says so.
    def offline() -> dict | None:
        cameras = {camera["id"]: camera for camera in pipeline.get_json("/api/cameras")["cameras"]}
        return cameras["laptop"] if cameras["laptop"]["status"] == "offline" else None

    assert "host left" in wait_for(offline, 2.0, "camera laptop to go offline")["message"]
    assert "hosting camera laptop" in pipeline.log("web") and "its host left" in pipeline.log("web")


def test_hosting_needs_a_writer_and_a_good_name(pipeline: Pipeline) -> None:
    with pytest.raises(InvalidStatus) as refused:
        host(pipeline, "nobody", token=None)
    assert refused.value.response.status_code == 401
    made = urllib.request.Request(
        pipeline.base_url + "/api/tokens",
        data=json.dumps({"name": "wall", "scope": "view"}).encode(),
        headers={**pipeline.auth, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(made, timeout=10) as answer:
        view_token = json.loads(answer.read())["token"]  # a view token may watch, not host
    with pytest.raises(InvalidStatus) as refused:
        host(pipeline, "wall-cam", token=view_token)
    assert refused.value.response.status_code == 403
    with host(pipeline, "bad%20name") as socket:
        refusal = json.loads(socket.recv(timeout=10))
        assert refusal["type"] == "error" and "letters" in refusal["error"]


def test_a_host_that_floods_and_never_reads_does_not_grow_the_web(pipeline: Pipeline, frames: list[bytes]) -> None:
    """Frames sent as fast as the socket takes them, no ack ever read: TCP holds the sender back."""
    before = web_worker_rss_mb(pipeline)
    sent = 0
    with host(pipeline, "flood") as socket:
        stop = time.monotonic() + FLOOD_S

        def flood() -> None:
            nonlocal sent
            try:
                while time.monotonic() < stop:
                    socket.send(frames[sent % len(frames)])
                    sent += 1
            except ConnectionClosed:
                pass

        sender = threading.Thread(target=flood, daemon=True)
        sender.start()
        sender.join(FLOOD_S + 30)
        during = web_worker_rss_mb(pipeline)
        assert pipeline.get("/healthz")[0] == 200, "the web still answers"
    megabytes = sent * len(frames[0]) / 1e6
    assert megabytes > 2 * MAX_GROWTH_MB, f"the flood was too small to tell ({megabytes:.0f} MB)"
    assert during - before < MAX_GROWTH_MB, f"the web grew {during - before:.0f} MB taking {megabytes:.0f} MB"
