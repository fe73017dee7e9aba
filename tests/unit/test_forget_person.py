"""Deleting a person, and their sightings only when asked (DELETE /api/people/<name>?sightings=delete), through the
Flask test client on a real SQLite file; the removal itself also on a real PostgreSQL."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from services.web.api_models import PersonRemoved
from services.web.app import create_app
from shared.config import Settings, load_config
from shared.faces.visitors import to_bytes
from shared.sightings import removal, store, visitor_store
from shared.sightings.database import database_url, images_dir, make_engine, upgrade

TOKEN = "unit-test-token-0123456789"
LIN = Path("video_hamilton/reference/Lin_Manuel_Miranda/lin-manuel-miranda.png")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN)


def picture(settings: Settings, relative: str) -> Path:
    path = images_dir(settings) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8 a jpeg")
    return path


@pytest.fixture
def client(settings: Settings, data_dir: Path) -> FlaskClient:
    for person in ("Lin_Manuel", "Ada"):
        (settings.faces_dir / person).mkdir(parents=True)
        shutil.copyfile(data_dir / LIN, settings.faces_dir / person / "one.png")
    engine = make_engine(database_url(settings))
    upgrade(engine)
    store.add(engine, "door", 1, "Lin_Manuel", 1000.0, 90)  # 1: pictures
    store.save(engine, 1, face_path="1970-01-01/1-face.jpg", snapshot_path="1970-01-01/1-frame.jpg")
    store.add(engine, "hall", 2, "Lin_Manuel", 2000.0, 90)  # 2: a visitor's, named Lin since
    visitor_store.create(engine, 2, to_bytes(np.zeros((2, 128))))
    store.add(engine, "door", 3, "Ada", 1500.0, 90)  # 3: someone else's
    store.add(engine, "door", 4, "Lin_Manuel", time.time(), 60)  # 4: still in view
    engine.dispose()
    picture(settings, "1970-01-01/1-face.jpg")
    picture(settings, "1970-01-01/1-frame.jpg")
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def listed(client: FlaskClient, name: str) -> list[int]:
    return [item["id"] for item in client.get(f"/api/sightings?name={name}").get_json()["items"]]


def test_without_asking_the_sightings_stay_and_the_answer_says_so(client: FlaskClient, settings: Settings) -> None:
    answer = client.delete("/api/people/Lin_Manuel")
    assert answer.status_code == 200, answer.get_json()
    removed = PersonRemoved.model_validate(answer.get_json())
    assert (removed.sightings_deleted, removed.sightings_kept) == (0, 3), removed
    assert "kept" in removed.sightings and "sightings=delete" in removed.sightings
    assert listed(client, "Lin_Manuel") == [4, 2, 1]
    assert (images_dir(settings) / "1970-01-01/1-face.jpg").is_file()
    assert not (settings.faces_dir / "Lin_Manuel").exists()


def test_asked_every_closed_sighting_goes_with_its_pictures_and_an_open_one_is_kept(
    client: FlaskClient, settings: Settings
) -> None:
    answer = client.delete("/api/people/Lin_Manuel?sightings=delete")
    assert answer.status_code == 200, answer.get_json()
    removed = PersonRemoved.model_validate(answer.get_json())
    assert (removed.sightings_deleted, removed.pictures_deleted, removed.sightings_kept) == (2, 2, 1), removed
    assert "still open kept" in removed.sightings
    assert listed(client, "Lin_Manuel") == [4], "the one still in view is the sightings service's to close"
    assert listed(client, "Ada") == [3]
    assert not any((images_dir(settings) / "1970-01-01").iterdir())
    assert client.get("/api/visitors/2").status_code == 404, "a visitor goes with their last sighting"
    assert client.get("/api/people").get_json()["people"][0]["name"] == "Ada"
    names = [one["name"] for one in client.get("/api/sightings/names").get_json()["names"]]
    assert names == ["Lin_Manuel", "Ada"]  # the open one, until it is deleted too


def test_nothing_is_deleted_for_a_wrong_call(client: FlaskClient) -> None:
    wrong = client.delete("/api/people/Lin_Manuel?sightings=yes")
    assert wrong.status_code == 400 and "sightings" in wrong.get_json()["error"]
    nobody = client.delete("/api/people/Nobody?sightings=delete")
    assert nobody.status_code == 404
    assert listed(client, "Lin_Manuel") == [4, 2, 1]
    assert [person["name"] for person in client.get("/api/people").get_json()["people"]] == ["Ada", "Lin_Manuel"]


def test_a_database_that_cannot_be_read_leaves_the_person(client: FlaskClient, settings: Settings) -> None:
    (settings.data_dir / "sightings.db").unlink()  # the engine makes a new empty file: no table in it
    answer = client.delete("/api/people/Lin_Manuel?sightings=delete")
    assert answer.status_code == 503 and "was not deleted" in answer.get_json()["error"]
    assert (settings.faces_dir / "Lin_Manuel").is_dir()
    kept = client.delete("/api/people/Lin_Manuel").get_json()
    assert kept["removed"] == "Lin_Manuel" and kept["sightings_kept"] is None


def test_removal_in_batches_on_each_database(
    empty_database: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(empty_database)
    monkeypatch.setattr(removal, "BATCH", 3)
    for track in range(7):
        store.add(empty_database, "door", track, "Ada", 100.0 + track, 90)
    store.add(empty_database, "door", 8, "Bo", 50.0, 90)
    store.add(empty_database, "door", 9, "Ada", 500.0, 90)  # seen after the cut-off: still open
    gone = removal.remove_named(empty_database, "Ada", tmp_path, settled_before=106.0)
    assert gone == removal.RemovedOfName(sightings=7, pictures=0, still_open=1)
    assert [row.name for row in store.page(empty_database, store.Filter(), 10)[0]] == ["Ada", "Bo"]
