"""The calls the Review and History pages add, on a real SQLite file through the Flask test client: a sighting's face
enrolled as a person's photo ("yes, that's Lin"), deleting a sighting (row, pictures, its visitor's figures; never one
the sightings service may still write to), and when and where each person was seen."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient

from services.web.api_models import NamesSeen, SightingRemoved, UploadReport
from services.web.app import create_app
from services.web.auth import needed_role
from shared.config import Settings, load_config
from shared.faces.visitors import to_bytes
from shared.sightings import store, visitor_store
from shared.sightings.database import database_url, images_dir, make_engine, upgrade

TOKEN = "unit-test-token-0123456789"
LIN = Path("video_hamilton/reference/Lin_Manuel_Miranda/lin-manuel-miranda.png")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN)


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    engine = make_engine(database_url(settings))
    upgrade(engine)
    store.add(engine, "door", 1, "Lin_Manuel", 1000.0, 90)  # 1
    store.add(engine, "hall", 2, "Lin_Manuel", 2000.0, 90)  # 2
    store.save(engine, 2, end_ts=2010.0)
    store.add(engine, "door", 3, "Ada", 1500.0, 90)  # 3
    store.add(engine, "door", 4, "Unknown", 1600.0, 60)  # 4: a visitor's
    store.add(engine, "door", 5, "Unknown", time.time(), 60)  # 5: still in view
    visitor_store.create(engine, 4, to_bytes(np.zeros((2, 128))))
    engine.dispose()
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def keep_crop(settings: Settings, row_id: int, source: Path) -> Path:
    relative = f"1970-01-01/{row_id}-face.jpg"
    path = images_dir(settings) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)
    engine = make_engine(database_url(settings))
    store.save(engine, row_id, face_path=relative)
    engine.dispose()
    return path


def test_a_sightings_face_becomes_a_photo_of_the_person(
    client: FlaskClient, settings: Settings, data_dir: Path, tmp_path: Path
) -> None:
    keep_crop(settings, 1, data_dir / LIN)
    answer = client.post("/api/people/Lin_Manuel/photos", json={"sighting": 1})
    report = UploadReport.model_validate(answer.get_json())
    assert answer.status_code == 201 and report.kept == 1 and report.files[0].file == "sighting 1", report
    assert len(list((tmp_path / "faces" / "Lin_Manuel").glob("*"))) == 1
    again = UploadReport.model_validate(client.post("/api/people/Lin_Manuel/photos", json={"sighting": 1}).get_json())
    assert again.files[0].already_enrolled, "the same face twice is one photo"
    for sent, status, words in (
        ({"sighting": 2}, 404, "no face crop"),
        ({"sighting": 99}, 404, "no sighting 99"),
        ({"sighting": "1"}, 400, "sighting"),
        ({"photo": 1}, 400, "sighting"),
    ):
        got = client.post("/api/people/Lin_Manuel/photos", json=sent)
        assert got.status_code == status and words in got.get_json()["error"], (sent, got.get_json())


def test_deleting_a_sighting_takes_its_pictures_and_recounts_its_visitor(
    client: FlaskClient, settings: Settings, data_dir: Path
) -> None:
    crop = keep_crop(settings, 4, data_dir / LIN)
    answer = client.delete("/api/sightings/4")
    assert answer.status_code == 200, answer.get_json()
    assert SightingRemoved.model_validate(answer.get_json()) == SightingRemoved(removed=4, pictures=1, visitor=1)
    assert not crop.exists()
    assert client.get("/api/sightings/4").status_code == 404
    assert client.get("/api/visitors/1").status_code == 404, "a visitor goes with their last sighting"
    assert client.delete("/api/sightings/4").status_code == 404
    assert client.delete("/api/sightings/3").get_json()["pictures"] == 0
    in_view = client.delete("/api/sightings/5")
    assert in_view.status_code == 409 and "still in view" in in_view.get_json()["error"]
    assert client.get("/api/sightings/5").status_code == 200


def test_when_and_where_each_person_was_seen(client: FlaskClient) -> None:
    seen = NamesSeen.model_validate(client.get("/api/sightings/names").get_json())
    assert [(one.name, one.first_seen, one.last_seen, one.sightings, one.cameras) for one in seen.names] == [
        ("Lin_Manuel", 1000.0, 2010.0, 2, ["door", "hall"]),
        ("Ada", 1500.0, 1500.0, 1, ["door"]),
    ]


def test_who_may_call_them() -> None:
    assert needed_role("GET", "/api/sightings/names") == "viewer"
    assert needed_role("DELETE", "/api/sightings/4") == "admin"
    assert needed_role("POST", "/api/people/Ana/photos") == "admin"
    assert needed_role("GET", "/history") == "viewer" and needed_role("GET", "/review") == "viewer"


def test_a_sightings_face_asked_for_without_a_sightings_database_is_a_503(tmp_path: Path, data_dir: Path) -> None:
    """The photos and the negatives routes both answer it from the people blueprint's one handler."""
    (tmp_path / "faces" / "Ada").mkdir(parents=True)
    shutil.copyfile(data_dir / LIN, tmp_path / "faces" / "Ada" / "ada.png")
    settings = load_config(
        data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN,
        database_url=f"sqlite:///{tmp_path / 'no-such-folder' / 'sightings.db'}",
    )  # fmt: skip
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    for path in ("/api/people/Ada/photos", "/api/people/Ada/not"):
        answer = client.post(path, json={"sighting": 1})
        assert answer.status_code == 503 and "sightings database" in answer.get_json()["error"], (path, answer.data)
