"""The people API against the real services: enrol, hot reload on every worker, recognise, rename, forget.

One pipeline (the hamilton clip, two workers, an empty faces folder) serves
the module's tests in order: at first nobody is known; enrolling Lin-Manuel
Miranda through the API must reach both running workers within a second and
get him named on the live stream without a restart.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import msgpack
import pytest
import zmq

from tests.harness import Pipeline, repository_files, wait_for

pytestmark = pytest.mark.integration

KNOWN = "Lin_Manuel_Miranda"


class BusRecorder(threading.Thread):
    """Every message of some topics, as (arrival time, topic, body), read with pyzmq and msgpack only."""

    def __init__(self, bus_port: int, prefixes: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.lock = threading.Lock()
        self.messages: list[tuple[float, str, dict]] = []
        self._stop_event = threading.Event()
        self._socket = zmq.Context.instance().socket(zmq.SUB)
        for prefix in prefixes:
            self._socket.setsockopt(zmq.SUBSCRIBE, prefix)
        self._socket.connect(f"tcp://127.0.0.1:{bus_port + 1}")

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self._socket.poll(100):
                topic, body = self._socket.recv_multipart()
                with self.lock:
                    self.messages.append((time.time(), topic.decode(), msgpack.unpackb(body)))
        self._socket.close(linger=0)

    def since(self, moment: float, topic_prefix: str) -> list[tuple[float, dict]]:
        with self.lock:
            return [(at, body) for at, topic, body in self.messages if at >= moment and topic.startswith(topic_prefix)]

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def multipart(field: str, files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with one part per file."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for filename, data in files:
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        body.write(data + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


class Api:
    """A small client for the API, returning (status, JSON body)."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        token: str | None = "default",
    ) -> tuple[int, dict]:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        bearer = self.token if token == "default" else token
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def upload(self, name: str, files: list[tuple[str, bytes]], token: str | None = "default") -> tuple[int, dict]:
        body, content_type = multipart("photos", files)
        return self.call("POST", f"/api/people/{urllib.parse.quote(name)}/photos", body, content_type, token)

    def recognize(self, data: bytes) -> tuple[int, dict]:
        body, content_type = multipart("image", [("query.jpg", data)])
        return self.call("POST", "/api/recognize", body, content_type)


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("people")
    (workdir / "faces").mkdir()
    running = Pipeline.configure(
        workdir,
        source=f"hamilton={data_dir / 'video_hamilton' / 'short_hamilton_clip.mp4'}",
        workers="2",
        max_upload_mb="1",
    )
    try:
        running.start()
        running.wait_for_workers(2)
        yield running
    finally:
        running.kill_leftovers()


@pytest.fixture(scope="module")
def api(pipeline: Pipeline) -> Api:
    token = (Path(pipeline.env["DATA_DIR"]) / "api-token").read_text().strip()
    return Api(pipeline.base_url, token)


@pytest.fixture(scope="module")
def bus(pipeline: Pipeline):
    recorder = BusRecorder(pipeline.bus_port, [b"workers.", b"faces.", b"people."])
    recorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def photos(data_dir: Path) -> dict[str, bytes]:
    reference = data_dir / "video_hamilton" / "reference"
    no_face = sorted((data_dir / "images_no_face").glob("*.jpg"))[0]
    group = sorted((data_dir / "images_multi_face").glob("*.jpg"))[0]
    return {
        "lin": (reference / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png").read_bytes(),
        "obama": (reference / "Barack_Obama" / "obama.jpg").read_bytes(),
        "stranger": (data_dir / "lfw_dev" / "images" / "AJ_Cook" / "AJ_Cook_0001.jpg").read_bytes(),
        "no_face": no_face.read_bytes(),
        "group": group.read_bytes(),
    }


def workers_knowing(bus: BusRecorder, since: float, predicate) -> dict[str, float]:
    """Workers that announced, after ``since``, a gallery satisfying ``predicate``, with when."""
    seen: dict[str, float] = {}
    for at, status in bus.since(since, "workers."):
        if predicate(status["people"]):
            seen.setdefault(status["worker"], at)
    return seen


def test_nobody_is_known_at_first(pipeline: Pipeline, api: Api, bus: BusRecorder) -> None:
    assert api.call("GET", "/api/people") == (200, {"people": []})
    wait_for(lambda: [r for _, r in bus.since(0, "faces.") if r["faces"]], 60, "a face on the stream")


def test_changes_exports_and_reads_need_the_token(api: Api) -> None:
    for method, path in [
        ("POST", "/api/people/Ada/photos"),
        ("DELETE", "/api/people/Ada"),
        ("PATCH", "/api/people/Ada"),
        ("GET", "/api/people/Ada/photos/x.jpg"),
        ("DELETE", "/api/people/Ada/photos/x.jpg"),
        ("POST", "/api/recognize"),
        ("GET", "/api/people"),
    ]:
        for token in (None, "not-the-token"):
            status, body = api.call(method, path, token=token)
            assert status == 401 and "token" in body["error"], (method, path, token, status, body)


@pytest.mark.parametrize("name", ["..", ".hidden", "Unknown", "x" * 65, "semi;colon", "tab\tname", " "])
def test_bad_names_are_refused_with_a_reason(api: Api, photos: dict[str, bytes], name: str) -> None:
    status, body = api.upload(name, [("lin.png", photos["lin"])])
    assert status in (400, 404) and body.get("error"), (name, status, body)
    if status == 400:
        assert body["error"].startswith("bad name")


def test_unusable_uploads_are_refused_file_by_file(api: Api, photos: dict[str, bytes], pipeline: Pipeline) -> None:
    status, body = api.upload(
        "Ada", [("notes.txt", b"just words"), ("nobody.jpg", photos["no_face"]), ("anim.gif", b"GIF89a" + bytes(200))]
    )
    assert status == 422 and body["kept"] == 0
    reasons = {entry["file"]: entry["reason"] for entry in body["files"]}
    assert "not an image" in reasons["notes.txt"] and "no face" in reasons["nobody.jpg"]
    assert "not an image" in reasons["anim.gif"] or "GIF" in reasons["anim.gif"]
    status, body = api.upload("Ada", [("huge.jpg", b"\xff\xd8" + bytes(1_200_000))])
    assert status == 413 and "larger than" in body["error"]
    assert not (Path(pipeline.env["FACES_DIR"]) / "Ada").exists(), "nothing may be written for refused uploads"
    status, body = api.upload("Ada", [])
    assert status == 400 and "photos" in body["error"]


def test_enrolling_reaches_every_worker_within_a_second(
    api: Api, bus: BusRecorder, photos: dict[str, bytes], pipeline: Pipeline
) -> None:
    before = time.time()
    status, body = api.upload(KNOWN, [("lin.png", photos["lin"]), ("crowd.jpg", photos["group"])])
    answered = time.time()
    assert status == 201 and body["kept"] == 2, body
    [group_entry] = [entry for entry in body["files"] if entry["file"] == "crowd.jpg"]
    assert "largest" in group_entry["warning"]
    reloaded = wait_for(
        lambda: (found := workers_knowing(bus, before, lambda people: KNOWN in people)) and len(found) >= 2 and found,
        5,
        "both workers to announce the new gallery",
    )
    slowest = max(reloaded.values()) - answered
    assert slowest <= 1.0, f"a worker took {slowest:.2f} s to use the new photos"
    print(f"workers used the new photos {slowest * 1000:.0f} ms after the API answered")
    named = wait_for(
        lambda: [r for _, r in bus.since(answered, "faces.") if any(f["name"] == KNOWN for f in r["faces"])],
        20,
        f"{KNOWN} to be named on the live stream",
    )
    assert named
    people = api.call("GET", "/api/people")[1]["people"]
    assert [(p["name"], p["photos"]) for p in people] == [(KNOWN, 2)]


def test_recognize_names_the_known_and_not_the_stranger(api: Api, photos: dict[str, bytes]) -> None:
    status, body = api.recognize(photos["lin"])
    assert status == 200 and [face["name"] for face in body["faces"]] == [KNOWN]
    x, y, w, h = body["faces"][0]["box"]
    assert 0 <= x < x + w <= 1 and 0 <= y < y + h <= 1
    status, body = api.recognize(photos["stranger"])
    assert status == 200 and body["faces"] and all(face["name"] == "Unknown" for face in body["faces"])
    status, body = api.recognize(b"not an image at all")
    assert status == 400 and "not an image" in body["error"]


def test_a_unicode_name_works_and_photos_can_be_fetched_and_deleted(api: Api, photos: dict[str, bytes]) -> None:
    name = "Barack Obama Zoë"
    status, body = api.upload(name, [("obama.jpg", photos["obama"])])
    assert status == 201, body
    photo_id = body["files"][0]["photo_id"]
    request = urllib.request.Request(f"{api.base_url}/api/people/{urllib.parse.quote(name)}/photos/{photo_id}")
    request.add_header("Authorization", f"Bearer {api.token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == photos["obama"]
    status, _ = api.call("DELETE", f"/api/people/{urllib.parse.quote(name)}/photos/{photo_id}")
    assert status == 200
    assert name not in [p["name"] for p in api.call("GET", "/api/people")[1]["people"]]
    status, body = api.call("DELETE", f"/api/people/{urllib.parse.quote(name)}/photos/{photo_id}")
    assert status == 404


def test_rename_and_forget_reach_the_workers(api: Api, bus: BusRecorder) -> None:
    status, body = api.call("PATCH", f"/api/people/{KNOWN}", json.dumps({"name": "Lin"}).encode(), "application/json")
    assert status == 200 and body["name"] == "Lin" and body["photos"] == 2
    status, body = api.call("PATCH", "/api/people/Lin", json.dumps({"name": "../x"}).encode(), "application/json")
    assert status == 400
    before = time.time()
    assert api.call("DELETE", "/api/people/Lin")[0] == 200
    assert api.call("DELETE", "/api/people/Lin")[0] == 404
    wait_for(
        lambda: len(workers_knowing(bus, before, lambda people: people == [])) >= 2,
        5,
        "both workers to forget everyone",
    )
    assert api.call("GET", "/api/people")[1] == {"people": []}


def test_the_api_is_described(pipeline: Pipeline) -> None:
    document = pipeline.get_json("/api/openapi.json")
    assert document["openapi"].startswith("3.")
    for path in ("/api/people", "/api/people/{name}/photos", "/api/people/{name}", "/api/recognize"):
        assert path in document["paths"]
    status, page = pipeline.get("/api/docs")
    assert status == 200 and b"/api/recognize" in page


def test_nothing_is_written_outside_the_data_folders(pipeline: Pipeline) -> None:
    workdir = pipeline.workdir
    allowed = {workdir / "faces", workdir / "data", workdir / "logs", workdir / "launch.out"}
    assert {path for path in workdir.iterdir()} <= allowed
    assert repository_files() - pipeline.repository_before == set(), "the services wrote into the repository"
