"""The sightings API on a real SQLite file through the Flask test client: pages, filters, bad values, pictures,
and who may see a face."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from services.web.api_models import SightingItem, SightingPage
from services.web.app import create_app
from services.web.auth import needed_role
from shared.config import load_config
from shared.sightings import store
from shared.sightings.database import database_url, images_dir, make_engine, upgrade

TOKEN = "unit-test-token-0123456789"


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    settings = load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN)
    engine = make_engine(database_url(settings))
    upgrade(engine)
    for index in range(5):
        store.add(engine, "door" if index % 2 else "hall", index, "Ada" if index < 3 else "Unknown", 1000.0 + index, 90)
    (images_dir(settings) / "1970-01-01").mkdir(parents=True)
    (images_dir(settings) / "1970-01-01" / "1-face.jpg").write_bytes(b"\xff\xd8 the crop")
    store.save(engine, 1, face_path="1970-01-01/1-face.jpg")
    engine.dispose()
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def test_pages_filters_and_one_sighting(client: FlaskClient) -> None:
    first = SightingPage.model_validate(client.get("/api/sightings?limit=2").get_json())
    assert [item.id for item in first.items] == [5, 4] and first.next_cursor
    rest = SightingPage.model_validate(client.get(f"/api/sightings?limit=2&cursor={first.next_cursor}").get_json())
    assert [item.id for item in rest.items] == [3, 2]
    ada_at_door = client.get("/api/sightings?camera=door&name=Ada").get_json()
    assert [item["id"] for item in ada_at_door["items"]] == [2] and ada_at_door["next_cursor"] is None
    window = client.get("/api/sightings?since=1970-01-01T00:16:41Z&until=1002.5").get_json()
    assert [item["id"] for item in window["items"]] == [3, 2]
    one = SightingItem.model_validate(client.get("/api/sightings/2").get_json())
    assert (one.camera, one.name, one.start, one.frames) == ("door", "Ada", 1001.0, 1)
    assert client.get("/api/sightings/99").status_code == 404


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "limit=ten", "since=yesterday", "until=1e", "cursor=garbage!", "camera="]
)
def test_bad_values_are_a_400_naming_them(client: FlaskClient, query: str) -> None:
    answer = client.get(f"/api/sightings?{query}")
    assert answer.status_code == 400 and query.split("=")[0] in answer.get_json()["error"]


def test_pictures(client: FlaskClient) -> None:
    face = client.get("/api/sightings/1/face.jpg")
    assert face.status_code == 200 and face.mimetype == "image/jpeg" and face.data.startswith(b"\xff\xd8")
    assert client.get("/api/sightings/1/snapshot.jpg").status_code == 404, "none was cut"
    assert client.get("/api/sightings/2/face.jpg").status_code == 404


def test_no_database_yet_is_a_503_that_says_why(tmp_path: Path) -> None:
    settings = load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN)
    client = create_app(settings, start_listener=False).test_client()
    answer = client.get("/api/sightings", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 503 and "sightings service" in answer.get_json()["error"]


def test_rows_are_a_viewers_and_faces_an_admins() -> None:
    for path in ("/api/sightings", "/api/sightings/12"):
        assert needed_role("GET", path) == "viewer"
    for path in ("/api/sightings/12/face.jpg", "/api/sightings/12/snapshot.jpg", "/api/sightings/12/anything"):
        assert needed_role("GET", path) == "admin"
