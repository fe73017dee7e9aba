"""Returning strangers through the real pipeline, nobody enrolled: visitor ids, and naming a visitor.

The Bill Clinton clip plays on two cameras (``door`` and ``yard``) and the
hamilton clip on a third (``stage``). Bill Clinton is a stranger here: both of
his cameras must give him one visitor id, and the hamilton clip's people
other ids. Naming his visitor enrols his crops: the live results then name
him, and his past sightings are renamed. A second, smaller pipeline keeps no
stranger's picture (STORE_UNKNOWN_IMAGES=false), on PostgreSQL when a server
can be started here, and is restarted: visitors are remembered across it.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.sightings import visitor_store
from shared.sightings.database import make_engine
from tests.harness import Pipeline, SightingRecorder, processes_with_marker, running_pipeline, wait_for
from tests.postgres import fresh_database, postgres_server, why_not

pytestmark = pytest.mark.integration

NAME = "Bill Clinton"
VISITOR_S = 120.0
"""Workers loading, the clip's ~10 s without a face, and a few seconds of encodings, on a loaded 2-core machine."""
LEAVE_S = 150.0
"""The clip's 39 s, its empty start again and the closing time, on top of the start."""


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("visitors")
    bill = data_dir / "video_bill_clinton" / "Bill_Clinton.avi"
    hamilton = data_dir / "video_hamilton" / "short_hamilton_clip.mp4"
    (workdir / "faces").mkdir()
    with running_pipeline(
        workdir, source=f"door={bill},yard={bill},stage={hamilton}", workers="2", every_n="2"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def recorder(pipeline: Pipeline) -> Iterator[SightingRecorder]:
    listening = SightingRecorder(pipeline.bus_port)
    listening.start()
    yield listening
    listening.stop()


def visitors_on(recorder: SightingRecorder, camera: str) -> list[int]:
    """The visitor ids the bus gave the camera's sightings, in the order said."""
    return [
        m["visitor"]
        for m in recorder.seen("named", camera=camera) + recorder.seen("leave", camera=camera)
        if m["visitor"]
    ]


def post_json(pipeline: Pipeline, path: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        pipeline.base_url + path,
        data=json.dumps(body).encode(),
        headers={**pipeline.auth, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def bill(pipeline: Pipeline, recorder: SightingRecorder) -> int:
    """Bill Clinton's visitor id, as the door camera's first decided sighting says it."""
    return wait_for(lambda: visitors_on(recorder, "door"), VISITOR_S, "a visitor id for the stranger at the door")[0]


def test_the_same_stranger_on_two_cameras_is_one_visitor(
    pipeline: Pipeline, recorder: SightingRecorder, bill: int
) -> None:
    yard = wait_for(lambda: visitors_on(recorder, "yard"), 60, "a visitor id for the stranger in the yard")
    assert yard[0] == bill, f"the same face on two cameras got visitors {bill} and {yard[0]}"
    for message in recorder.seen("named", camera="door") + recorder.seen("named", camera="yard"):
        assert message["name"] == "Unknown" and message["visitor"] in (None, bill), message
    # the API: the visitor was on both cameras, and their sightings are listed under their id
    visitor = wait_for(
        lambda: (found := pipeline.get_json(f"/api/visitors/{bill}"))["cameras"] == ["door", "yard"] and found,
        30,
        "the visitor listed on both cameras",
    )
    assert visitor["name"] is None and visitor["sightings"] >= 2 and visitor["first_seen"] <= visitor["last_seen"]
    assert visitor["faces"], "their face crops are kept (STORE_UNKNOWN_IMAGES defaults to true)"
    theirs = pipeline.get_json(f"/api/sightings?visitor={bill}")["items"]
    assert {item["camera"] for item in theirs} == {"door", "yard"} and all(item["visitor"] == bill for item in theirs)
    listed = pipeline.get_json("/api/visitors?camera=yard")["items"]
    assert bill in [item["id"] for item in listed]
    status, face = pipeline.get(f"/api/visitors/{bill}/face.jpg")
    assert status == 200 and face[:2] == b"\xff\xd8"


def test_other_strangers_get_other_ids(pipeline: Pipeline, recorder: SightingRecorder, bill: int) -> None:
    stage = wait_for(lambda: visitors_on(recorder, "stage"), VISITOR_S, "a visitor id on the hamilton clip")
    assert bill not in stage, "a stranger of the hamilton clip was given Bill Clinton's id"
    assert not set(visitors_on(recorder, "stage")) & set(visitors_on(recorder, "door") + visitors_on(recorder, "yard"))


def test_naming_a_visitor_enrols_them_and_renames_their_past_sightings(
    pipeline: Pipeline, recorder: SightingRecorder, bill: int
) -> None:
    wait_for(lambda: recorder.seen("leave", camera="door", visitor=bill), LEAVE_S, "the stranger to leave the door")
    closed = {m["id"] for m in recorder.seen("leave") if m["visitor"] == bill}
    status, named = post_json(pipeline, f"/api/visitors/{bill}/name", {"name": NAME})
    assert status == 200, named
    assert named["enrolled"] >= 1 and named["renamed"] >= len(closed) and named["visitor"]["name"] == NAME
    assert NAME in [person["name"] for person in pipeline.get_json("/api/people")["people"]]
    # the workers reload: the live results name him from then on
    wait_for(
        lambda: [face for face in pipeline.get_json("/api/results/door")["faces"] if face["name"] == NAME],
        90,
        f"the door camera's results to name {NAME}",
    )
    for sighting in closed:  # his sightings gone by say his name now, and are still his visitor's
        item = pipeline.get_json(f"/api/sightings/{sighting}")
        assert (item["name"], item["visitor"]) == (NAME, bill), item
    assert pipeline.get_json(f"/api/visitors/{bill}")["name"] == NAME
    assert [item["id"] for item in pipeline.get_json("/api/visitors?named=true")["items"]] == [bill]
    # from now on a sighting of his is named at the door and given no visitor id: he is somebody
    named_leave = wait_for(
        lambda: [m for m in recorder.seen("leave", camera="door", name=NAME) if m["id"] not in closed],
        LEAVE_S,
        f"a sighting of {NAME} to close named",
    )[0]
    assert named_leave["visitor"] in (None, bill)


def test_stops_cleanly(pipeline: Pipeline) -> None:
    assert pipeline.stop() == 0
    wait_for(lambda: not processes_with_marker(pipeline.marker), 10, "every service process to exit")
    assert "Traceback" not in pipeline.log("sightings")


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database when a server can be started here; else None (SQLite, the default)."""
    if why_not():
        yield None
        return
    with postgres_server() as url:
        yield fresh_database(url)


def test_without_stranger_pictures_visitors_live_on_encodings_across_a_restart(
    data_dir: Path, tmp_path: Path, database_url: str | None
) -> None:
    settings = {
        "source": f"door={data_dir / 'video_bill_clinton' / 'Bill_Clinton.avi'}",
        "store_unknown_images": "false",
    }
    if database_url:
        settings["database_url"] = database_url
    (tmp_path / "faces").mkdir()
    with running_pipeline(tmp_path, workers_ready=1, workers="1", **settings) as running:
        recorder = SightingRecorder(running.bus_port)
        recorder.start()
        try:
            visitor = wait_for(lambda: visitors_on(recorder, "door"), VISITOR_S, "a visitor id at the door")[0]
            decided = recorder.seen("named", camera="door", visitor=visitor)[0]
            assert running.get(f"/api/sightings/{decided['id']}/face.jpg")[0] == 404, "a stranger's crop was kept"
            assert not list((tmp_path / "data" / "sightings").glob("*/*.jpg")), "a stranger's picture was written"
            assert running.get_json(f"/api/visitors/{visitor}")["faces"] == []
            engine = make_engine(database_url or f"sqlite:///{tmp_path / 'data' / 'sightings.db'}")
            assert visitor in {who for who, _ in visitor_store.unnamed_encodings(engine)}, "no encoding was kept"
            engine.dispose()
            # restarted, the service remembers the stranger: his next sighting is the same visitor
            highest = max(m["id"] for m in recorder.seen("appear"))
            running.supervisorctl("restart", "sightings")
            again = wait_for(
                lambda: [m["visitor"] for m in recorder.seen("named") if m["id"] > highest and m["visitor"]],
                VISITOR_S,
                "a visitor id after the restart",
            )
            assert again[0] == visitor
        finally:
            recorder.stop()
        assert "Traceback" not in running.log("sightings")
