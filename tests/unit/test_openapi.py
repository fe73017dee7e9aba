"""The OpenAPI document: it names every /api route and no other, its refs resolve, and answers fit their models."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.web.api_models import CameraList, PeopleList
from services.web.app import ADD_CAMERA_HINT, create_app
from services.web.openapi import spec
from shared.config import load_config

IGNORED_METHODS = {"HEAD", "OPTIONS"}


TOKEN = "unit-test-token-0123456789"


def make_app(folder: Path, source: str = "none") -> Flask:
    """The web app on a temporary folder, without its bus thread (nothing is received)."""
    settings = load_config(data_dir=folder, faces_dir=folder / "faces", source=source, api_token=TOKEN)
    return create_app(settings, start_listener=False)


def client_of(app: Flask) -> FlaskClient:
    """A client that sends the API token, as a program would: every route needs a credential."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def routed_operations(app: Flask) -> set[tuple[str, str]]:
    """Every (OpenAPI path, method) the app answers under /api."""
    return {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in IGNORED_METHODS
    }


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in document["paths"].items() for method in methods}


def refs_in(node: Any) -> Iterator[str]:
    """Every "$ref" anywhere in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def test_every_api_route_is_documented_and_nothing_else(app: Flask) -> None:
    routed, documented = routed_operations(app), documented_operations(spec())
    assert ("/api/people/{name}/photos/{photo_id}", "delete") in routed  # the rule conversion works
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations that no route answers"


def test_every_ref_resolves_to_a_schema() -> None:
    document = spec()
    schemas = document["components"]["schemas"]
    refs = set(refs_in(document))
    assert refs, "the document refers to no model"
    prefix = "#/components/schemas/"
    assert {ref for ref in refs if not ref.startswith(prefix) or ref[len(prefix) :] not in schemas} == set()


def test_the_docs_page_shows_every_path(app: Flask) -> None:
    page = client_of(app).get("/api/docs")
    assert page.status_code == 200
    for path in spec()["paths"]:
        assert path.encode() in page.data


def test_answers_fit_their_documented_models(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "faces" / "Ada").mkdir(parents=True)
    (tmp_path / "faces" / "Ada" / "ada.jpg").write_bytes(b"\xff\xd8 not decoded by a listing")
    client = client_of(app)

    people = client.get("/api/people")
    assert people.status_code == 200
    listed = PeopleList.model_validate(people.get_json())
    assert [(person.name, person.photos) for person in listed.people] == [("Ada", 1)]

    cameras = client.get("/api/cameras")
    assert cameras.status_code == 200
    assert CameraList.model_validate(cameras.get_json()) == CameraList(cameras=[], hint=ADD_CAMERA_HINT)


def test_a_camera_without_frames_fits_its_model(tmp_path: Path) -> None:
    answer = client_of(make_app(tmp_path, source="door=rtsp://127.0.0.1/none")).get("/api/cameras")
    assert answer.status_code == 200
    [door] = CameraList.model_validate(answer.get_json()).cameras
    assert (door.id, door.status, door.resolution, door.last_frame_time) == ("door", "no_signal", None, None)
    assert answer.get_json()["cameras"][0]["resolution"] is None, "absent values are sent as null, as before"
