"""The visitors API on a real SQLite file through the Flask test client: pages and filters, one visitor, their face,
bad values, who may do what, and naming a visitor (their crops enrolled for real, their sightings renamed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient

from services.web.api_models import SightingPage, VisitorDetail, VisitorNamed, VisitorPage, VisitorRemoved
from services.web.app import create_app
from services.web.auth import needed_role
from shared.config import Settings, load_config
from shared.faces.visitors import to_bytes
from shared.people.store import PeopleStore
from shared.sightings import store, visitor_store
from shared.sightings.database import database_url, images_dir, make_engine, upgrade

TOKEN = "unit-test-token-0123456789"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN)


def client_of(settings: Settings) -> FlaskClient:
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def add_visitor(settings: Settings, sightings: list[tuple[str, float, Path | None]], value: float) -> int:
    """A visitor with these sightings (camera, start, a face crop to keep or None); their id."""
    engine = make_engine(database_url(settings))
    upgrade(engine)
    visitor = None
    for offset, (camera, start, crop) in enumerate(sightings):
        row_id = store.add(engine, camera, 1, "Unknown", start, 80.0)
        store.save(engine, row_id, end_ts=start + 4)
        if crop is not None:
            relative = f"1970-01-01/{row_id}-face.jpg"
            (images_dir(settings) / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(crop, images_dir(settings) / relative)
            store.save(engine, row_id, face_path=relative)
        blob = to_bytes(np.full((2, 128), value + 0.01 * offset))
        if visitor is None:
            visitor = visitor_store.create(engine, row_id, blob)
        else:
            visitor_store.join(engine, row_id, visitor, blob)
    engine.dispose()
    assert visitor is not None
    return visitor


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> FlaskClient:
    crop = tmp_path / "crop.jpg"
    crop.write_bytes(b"\xff\xd8 a crop")
    add_visitor(settings, [("door", 1000.0, crop), ("yard", 2000.0, None)], 0.1)  # 1: last seen 2004
    add_visitor(settings, [("door", 1500.0, None)], 0.3)  # 2: last seen 1504
    add_visitor(settings, [("yard", 3000.0, None)], 0.5)  # 3: last seen 3004
    return client_of(settings)


def test_pages_filters_and_one_visitor(client: FlaskClient) -> None:
    first = VisitorPage.model_validate(client.get("/api/visitors?limit=2").get_json())
    assert [item.id for item in first.items] == [3, 1] and first.next_cursor
    rest = VisitorPage.model_validate(client.get(f"/api/visitors?limit=2&cursor={first.next_cursor}").get_json())
    assert [item.id for item in rest.items] == [2] and rest.next_cursor is None
    one = first.items[1]
    assert (one.first_seen, one.last_seen, one.sightings, one.cameras, one.name) == (
        1000.0,
        2004.0,
        2,
        ["door", "yard"],
        None,
    )
    assert [item["id"] for item in client.get("/api/visitors?camera=door").get_json()["items"]] == [1, 2]
    assert [item["id"] for item in client.get("/api/visitors?since=2000&named=false").get_json()["items"]] == [3, 1]
    assert client.get("/api/visitors?named=true").get_json()["items"] == []
    detail = VisitorDetail.model_validate(client.get("/api/visitors/1").get_json())
    assert detail.faces == [1] and detail.sightings == 2
    assert client.get("/api/visitors/99").status_code == 404
    theirs = SightingPage.model_validate(client.get("/api/sightings?visitor=1").get_json())
    assert [(item.id, item.visitor) for item in theirs.items] == [(2, 1), (1, 1)]
    face = client.get("/api/visitors/1/face.jpg")
    assert face.status_code == 200 and face.mimetype == "image/jpeg" and face.data == b"\xff\xd8 a crop"
    assert client.get("/api/visitors/2/face.jpg").status_code == 404, "no crop kept"


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=many", "since=soon", "named=maybe", "cursor=garbage!", "camera=", "visitor=x"]
)
def test_bad_values_are_a_400_naming_them(client: FlaskClient, query: str) -> None:
    path = "/api/sightings" if query.startswith("visitor") else "/api/visitors"
    answer = client.get(f"{path}?{query}")
    assert answer.status_code == 400 and query.split("=")[0] in answer.get_json()["error"]


def test_visitors_are_a_viewers_and_their_faces_names_and_forgetting_an_admins() -> None:
    assert needed_role("GET", "/api/visitors") == needed_role("GET", "/api/visitors/4") == "viewer"
    assert needed_role("GET", "/api/visitors/4/face.jpg") == "admin"
    assert needed_role("POST", "/api/visitors/4/name") == "admin"
    assert needed_role("DELETE", "/api/visitors/4") == "admin"


def test_forgetting_a_visitor_deletes_their_encodings_and_pictures_not_their_sightings(
    client: FlaskClient, settings: Settings
) -> None:
    crop = images_dir(settings) / "1970-01-01" / "1-face.jpg"
    assert crop.is_file()
    forgotten = VisitorRemoved.model_validate(client.delete("/api/visitors/1").get_json())
    assert (forgotten.removed, forgotten.sightings, forgotten.pictures) == (1, 2, 1)
    assert not crop.exists()
    assert client.get("/api/visitors/1").status_code == 404 and client.delete("/api/visitors/1").status_code == 404
    assert [item["id"] for item in client.get("/api/visitors").get_json()["items"]] == [3, 2]
    kept = client.get("/api/sightings/1").get_json()
    assert (kept["camera"], kept["start"], kept["visitor"]) == ("door", 1000.0, None)
    assert client.get("/api/sightings/1/face.jpg").status_code == 404


def test_naming_a_visitor_enrols_their_crops_and_renames_their_sightings(settings: Settings, data_dir: Path) -> None:
    photos = sorted((data_dir / "video_bill_clinton" / "reference" / "Bill_Clinton").glob("*.jpg"))
    visitor = add_visitor(
        settings, [("door", 1000.0, photos[0]), ("yard", 2000.0, photos[1]), ("door", 3000.0, None)], 0.2
    )
    other = add_visitor(settings, [("door", 4000.0, photos[2])], 0.6)
    client = client_of(settings)
    for body, status in (({"name": "Unknown"}, 400), ({"name": "../etc"}, 400), ({"nom": "Bill"}, 400), (None, 400)):
        assert client.post(f"/api/visitors/{visitor}/name", json=body).status_code == status, body
    assert client.post("/api/visitors/99/name", json={"name": "Bill Clinton"}).status_code == 404
    assert not (settings.faces_dir / "Bill Clinton").exists(), "nothing was enrolled by a refused call"

    answer = client.post(f"/api/visitors/{visitor}/name", json={"name": "Bill Clinton"})
    assert answer.status_code == 200, answer.get_json()
    named = VisitorNamed.model_validate(answer.get_json())
    assert named.enrolled == 2 and named.renamed == 3 and named.warning is None
    assert sorted(entry.file for entry in named.files) == ["sighting 1", "sighting 2"]
    assert named.visitor.name == "Bill Clinton" and named.visitor.id == visitor
    enrolled = PeopleStore(settings.faces_dir).person("Bill Clinton")
    assert sorted(photo.id for photo in enrolled.photos) == sorted(entry.photo_id for entry in named.files)  # type: ignore[misc]
    items = client.get(f"/api/sightings?visitor={visitor}").get_json()["items"]
    assert [item["name"] for item in items] == ["Bill Clinton"] * 3
    assert client.get(f"/api/visitors/{other}").get_json()["name"] is None, "another visitor is untouched"
    assert [item["id"] for item in client.get("/api/visitors?named=true").get_json()["items"]] == [visitor]

    again = VisitorNamed.model_validate(
        client.post(f"/api/visitors/{visitor}/name", json={"name": "Bill Clinton"}).get_json()
    )
    assert again.enrolled == 2 and all(entry.already_enrolled for entry in again.files) and again.renamed == 0
    assert client.post(f"/api/visitors/{visitor}/name", json={"name": "Someone Else"}).status_code == 409


def test_naming_a_visitor_without_a_crop_renames_and_says_why_nobody_was_enrolled(settings: Settings) -> None:
    visitor = add_visitor(settings, [("door", 1000.0, None)], 0.2)
    named = VisitorNamed.model_validate(
        client_of(settings).post(f"/api/visitors/{visitor}/name", json={"name": "Ada"}).get_json()
    )
    assert (named.enrolled, named.renamed, named.files) == (0, 1, [])
    assert named.warning and "STORE_UNKNOWN_IMAGES" in named.warning
    assert not (settings.faces_dir / "Ada").exists()
