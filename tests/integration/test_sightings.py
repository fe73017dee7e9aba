"""Sightings through the real pipeline: the Bill Clinton news clip, Bill Clinton enrolled.

The clip is 39 s: about 10 s with nobody (black, a building, title cards),
then Bill Clinton speaking; the capture loops a file, so after its end the
empty seconds come again and his sighting closes. One pipeline serves the
module's tests in order: the bus messages, the rows and pictures through the
API (and who may see a face), paging with the cursor, a restart of every
service, and a clean stop.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from shared.sightings import store
from shared.sightings.database import make_engine
from tests.harness import Pipeline, SightingRecorder, processes_with_marker, wait_for

pytestmark = pytest.mark.integration

KNOWN = "Bill_Clinton"
FIRST_LEAVE_S = 150.0
"""Workers loading, the clip's 39 s, its empty start again, and the closing time, on a shared 2-core machine."""


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("sightings")
    running = Pipeline.configure(
        workdir,
        source=f"news={data_dir / 'video_bill_clinton' / 'Bill_Clinton.avi'}",
        faces_dir=str(data_dir / "video_bill_clinton" / "reference"),
        workers="1",
        every_n="2",
    )
    try:
        running.start()
        yield running
    finally:
        running.kill_leftovers()


@pytest.fixture(scope="module")
def recorder(pipeline: Pipeline):
    listening = SightingRecorder(pipeline.bus_port)
    listening.start()
    yield listening
    listening.stop()


def get_as(pipeline: Pipeline, path: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(pipeline.base_url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_known_person_appears_and_leaves_on_the_bus_and_in_the_api(pipeline: Pipeline, recorder) -> None:
    started = time.time()
    leave = wait_for(
        lambda: recorder.seen("leave", camera="news", name=KNOWN), FIRST_LEAVE_S, f"{KNOWN} to leave (the clip loops)"
    )[0]
    appears = recorder.seen("appear", id=leave["id"])
    assert len(appears) == 1 and appears[0]["track_id"] == leave["track_id"] and appears[0]["start"] == leave["start"]
    assert leave["frames"] >= 20 and leave["confidence"] >= 80, leave
    assert leave["end"] - leave["start"] >= 10, "he speaks for most of the clip's 29 s"
    assert started - 60 < leave["start"] < leave["end"] <= leave["ts"]
    for message in recorder.seen("leave"):  # every leave closes an appear, and nobody else is given his name
        assert recorder.seen("appear", id=message["id"]), message
        assert message["name"] in (KNOWN, "Unknown")

    # the row, as the API serves it, says what the leave said
    row = pipeline.get_json(f"/api/sightings/{leave['id']}")
    assert row == {
        "id": leave["id"],
        "camera": "news",
        "name": KNOWN,
        "visitor": None,  # someone known is nobody's visitor, though the first seconds of him were Unknown
        "start": leave["start"],
        "end": leave["end"],
        "confidence": leave["confidence"],
        "frames": leave["frames"],
    }
    listed = pipeline.get_json(f"/api/sightings?camera=news&name={KNOWN}")["items"]
    assert row in listed

    # its face: a JPEG cut around a face, the snapshot the camera's whole frame, both under DATA_DIR/sightings/<day>/
    status, face = pipeline.get(f"/api/sightings/{leave['id']}/face.jpg")
    assert status == 200 and face[:2] == b"\xff\xd8"
    crop = cv2.imdecode(np.frombuffer(face, np.uint8), cv2.IMREAD_COLOR)
    assert crop is not None and 40 <= crop.shape[0] <= 360
    status, snapshot = pipeline.get(f"/api/sightings/{leave['id']}/snapshot.jpg")
    assert status == 200 and cv2.imdecode(np.frombuffer(snapshot, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (360, 480)
    assert list((Path(pipeline.env["DATA_DIR"]) / "sightings").glob(f"*/{leave['id']}-face.jpg"))

    # a view token reads the rows but never a face
    made = urllib.request.Request(
        pipeline.base_url + "/api/tokens",
        data=json.dumps({"name": "hall", "scope": "view"}).encode(),
        headers={**pipeline.auth, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(made, timeout=10) as answer:
        view_token = json.loads(answer.read())["token"]
    assert get_as(pipeline, f"/api/sightings/{leave['id']}", view_token)[0] == 200
    for picture in ("face.jpg", "snapshot.jpg"):
        status, body = get_as(pipeline, f"/api/sightings/{leave['id']}/{picture}", view_token)
        assert status == 403 and "admin" in json.loads(body)["error"]


def test_the_api_pages_through_rows_with_the_cursor(pipeline: Pipeline) -> None:
    engine = make_engine(f"sqlite:///{Path(pipeline.env['DATA_DIR']) / 'sightings.db'}")  # the service's own file
    hour_ago = round(time.time()) - 3600.0  # within RETAIN_DAYS: retention at the next start keeps them
    starts = [hour_ago + i // 2 for i in range(7)]  # pairs share a start: the id breaks the tie
    added = [store.add(engine, "elsewhere", i, "Unknown", start, 70.0) for i, start in enumerate(starts)]
    engine.dispose()
    pages, cursor, seen = 0, None, []
    while True:
        page = pipeline.get_json("/api/sightings?camera=elsewhere&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [(item["start"], item["id"]) for item in page["items"]]
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4 and seen == sorted(zip(starts, added), reverse=True)
    everything = pipeline.get_json("/api/sightings?limit=500")["items"]
    keys = [(item["start"], item["id"]) for item in everything]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert pipeline.get("/api/sightings?limit=zero")[0] == 400


def test_sightings_survive_a_restart_of_every_service(pipeline: Pipeline, recorder) -> None:
    closed = {message["id"] for message in recorder.seen("leave")}
    listed = pipeline.get_json("/api/sightings?limit=500")["items"]
    before = [item for item in listed if item["id"] in closed or item["camera"] == "elsewhere"]  # none still open
    assert [item for item in before if item["name"] == KNOWN] and len([i for i in before if i["camera"] != "news"]) == 7
    highest = max(item["id"] for item in pipeline.get_json("/api/sightings?limit=500")["items"])
    pipeline.supervisorctl("restart", "all")
    wait_for(lambda: pipeline.get_json("/healthz")["status"] == "ok", 90, "the web healthy after the restart")
    after = {item["id"]: item for item in pipeline.get_json("/api/sightings?limit=500")["items"]}
    for item in before:  # closed before the restart: exactly as they were
        assert after[item["id"]] == item
    assert pipeline.get(f"/api/sightings/{min(closed)}/face.jpg")[0] == 200
    # and the service keeps going: the clip starts over, Bill Clinton comes back as a new sighting
    appear = wait_for(
        lambda: [m for m in recorder.seen("appear", camera="news") if m["id"] > highest], 120, "a new sighting"
    )[0]
    assert pipeline.get(f"/api/sightings/{appear['id']}")[0] == 200
    assert "sightings database" in pipeline.log("sightings") and "Traceback" not in pipeline.log("sightings")


def test_stops_cleanly(pipeline: Pipeline) -> None:
    assert pipeline.stop() == 0
    wait_for(lambda: not processes_with_marker(pipeline.marker), 10, "every service process to exit")
    assert "Traceback" not in pipeline.log("sightings")
