"""Faces marked as not a person: kept in their folder, carried by renames, gone with them, read into the gallery,
and the API's answers (the Flask test client on real folders, a real SQLite sightings file, real photos)."""

from __future__ import annotations

import io
from pathlib import Path

import msgpack
import pytest
from flask.testing import FlaskClient

from services.web.api_models import NegativeAdded, NegativeList, PeopleList
from services.web.app import create_app
from services.web.auth import needed_role
from shared.config import load_config
from shared.faces.encoding_cache import content_digest, remember
from shared.faces.gallery import load_gallery
from shared.faces.photo import PhotoOutcome
from shared.people.layout import folder_signature, person_negatives, person_photos
from shared.people.store import Conflict, NotFound, PeopleStore
from shared.sightings import store as sightings
from shared.sightings.database import database_url, images_dir, make_engine, upgrade
from tests.unit.test_auth import HOST, log_in, page_csrf
from tests.unit.test_auth import make_app as make_auth_app

TOKEN = "unit-test-token-0123456789"


def cached(data_dir: Path) -> set[str]:
    path = data_dir / "cache" / "encodings-v1.msgpack"
    return {key.partition(":")[0] for key in msgpack.unpackb(path.read_bytes(), raw=False)}


@pytest.fixture
def store(tmp_path: Path) -> PeopleStore:
    (tmp_path / "faces").mkdir()
    return PeopleStore(tmp_path / "faces", tmp_path / "data")


def test_negatives_live_in_the_persons_folder_and_are_not_photos(store: PeopleStore) -> None:
    store.add_photo("Ada", b"ada", ".jpg")
    before = folder_signature(store.faces_dir)
    kept = store.add_negative("Ada", b"not ada", ".jpg")
    assert kept.new and (store.faces_dir / "Ada" / ".not" / kept.id).read_bytes() == b"not ada"
    assert folder_signature(store.faces_dir) != before, "workers must notice a new negative"
    assert not store.add_negative("Ada", b"not ada", ".jpg").new  # the same face twice is kept once
    assert [photo.id for photo in store.person("Ada").photos] == [store.person("Ada").photos[0].id]
    assert [person for person, _ in person_photos(store.faces_dir)] == ["Ada"]
    assert [(person, path.name) for person, path in person_negatives(store.faces_dir)] == [("Ada", kept.id)]
    assert store.people()[0].negatives == 1 and [n.id for n in store.negatives("Ada")] == [kept.id]
    between = folder_signature(store.faces_dir)
    store.remove_negative("Ada", kept.id)
    assert folder_signature(store.faces_dir) != between
    assert store.negatives("Ada") == [] and not (store.faces_dir / "Ada" / ".not").exists()
    with pytest.raises(NotFound):
        store.remove_negative("Ada", kept.id)


def test_a_negative_needs_a_person_and_is_never_their_own_photo(store: PeopleStore) -> None:
    with pytest.raises(NotFound):
        store.add_negative("Nobody", b"x", ".jpg")
    (store.faces_dir / "Grace.jpg").write_bytes(b"grace")  # a single photo beside the folders
    with pytest.raises(Conflict, match="own enrolled photo"):
        store.add_negative("Grace", b"grace", ".jpg")
    store.add_negative("Grace", b"not grace", ".jpg")  # her single photo moves into a folder first
    assert store.person("Grace").photos[0].id == "Grace.jpg" and store.people()[0].negatives == 1
    assert not store.faces_dir.joinpath("Grace.jpg").exists()


def test_renames_carry_negatives_and_deletes_take_them_and_their_encodings(store: PeopleStore) -> None:
    assert store.data_dir is not None
    store.add_photo("Ada", b"ada", ".jpg")
    store.add_photo("Bob", b"bob-1", ".jpg")
    last = store.add_photo("Bob", b"bob-2", ".jpg")
    for face in (b"ada", b"not ada", b"bob-1", b"bob-2", b"not bob"):
        remember(store.data_dir, 1, face, PhotoOutcome("ok", None, faces=1))
    store.add_negative("Ada", b"not ada", ".jpg")
    store.add_negative("Bob", b"not bob", ".jpg")
    store.rename("Ada", "Ana")
    assert store.people()[0].name == "Ana" and store.people()[0].negatives == 1
    store.remove_person("Ana")
    assert content_digest(b"not ada") not in cached(store.data_dir)
    store.remove_photo("Bob", store.person("Bob").photos[0].id)
    assert store.negatives("Bob")[0].id  # one photo left: the person and their negatives stay
    store.remove_photo("Bob", last.id)  # the last photo: the person goes, with the faces marked as not them
    assert sorted(path.name for path in store.faces_dir.iterdir()) == []
    assert cached(store.data_dir) == set()


def test_the_gallery_reads_negatives_of_enrolled_people_only(data_dir: Path, tmp_path: Path) -> None:
    faces = tmp_path / "faces"
    reference = data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda"
    store = PeopleStore(faces, tmp_path / "data")
    for photo in sorted(reference.iterdir()):
        store.add_photo("Lin", photo.read_bytes(), photo.suffix.lower())
    stranger = (data_dir / "lfw_dev" / "images" / "AJ_Cook" / "AJ_Cook_0001.jpg").read_bytes()
    store.add_negative("Lin", stranger, ".jpg")
    (faces / "Ghost" / ".not").mkdir(parents=True)  # negatives of someone with no photo: nobody's
    (faces / "Ghost" / ".not" / "x.jpg").write_bytes(stranger)
    gallery = load_gallery(faces, tmp_path / "data")
    assert gallery.people == ["Lin"]
    assert [len(found) for found in gallery.negatives.values()] == [1]


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    settings = load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN)
    engine = make_engine(database_url(settings))
    upgrade(engine)
    sightings.add(engine, "door", 1, "Lin", 1000.0, 90)
    sightings.add(engine, "door", 2, "Lin", 1001.0, 90)
    engine.dispose()
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def upload(client: FlaskClient, path: str, data: bytes) -> tuple[int, dict]:
    answer = client.post(path, data={"image": (io.BytesIO(data), "face.jpg")}, content_type="multipart/form-data")
    return answer.status_code, answer.get_json()


def test_the_api_marks_lists_and_forgets_negatives(client: FlaskClient, data_dir: Path, tmp_path: Path) -> None:
    lin = (data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png").read_bytes()
    stranger = (data_dir / "lfw_dev" / "images" / "Bernard_Law" / "Bernard_Law_0002.jpg").read_bytes()
    assert upload(client, "/api/people/Lin/not", stranger)[0] == 404, "nobody is called Lin yet"
    assert client.post("/api/people/Lin/photos", data={"photos": (io.BytesIO(lin), "l.png")}).status_code == 201
    status, body = upload(client, "/api/people/Lin/not", stranger)
    added = NegativeAdded.model_validate(body)
    assert status == 201 and not added.already and added.sighting is None
    assert upload(client, "/api/people/Lin/not", stranger) == (200, {**body, "already": True})
    listed = NegativeList.model_validate(client.get("/api/people/Lin/not").get_json())
    assert (listed.count, [n.id for n in listed.negatives]) == (1, [added.id])
    assert PeopleList.model_validate(client.get("/api/people").get_json()).people[0].negatives == 1
    assert client.delete(f"/api/people/Lin/not/{added.id}").get_json() == {"removed": added.id, "person": "Lin"}
    assert client.delete(f"/api/people/Lin/not/{added.id}").status_code == 404
    assert client.get("/api/people/Lin/not").get_json()["count"] == 0


def test_the_api_takes_a_sightings_face_crop(client: FlaskClient, data_dir: Path, tmp_path: Path) -> None:
    lin = (data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png").read_bytes()
    client.post("/api/people/Lin/photos", data={"photos": (io.BytesIO(lin), "l.png")})
    settings = load_config(data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none")
    crop = (data_dir / "lfw_dev" / "images" / "Bernard_Law" / "Bernard_Law_0003.jpg").read_bytes()
    (images_dir(settings) / "1970-01-01").mkdir(parents=True)
    (images_dir(settings) / "1970-01-01" / "1-face.jpg").write_bytes(crop)
    engine = make_engine(database_url(settings))
    sightings.save(engine, 1, face_path="1970-01-01/1-face.jpg")
    engine.dispose()
    answer = client.post("/api/people/Lin/not", json={"sighting": 1})
    assert answer.status_code == 201 and answer.get_json()["sighting"] == 1, answer.get_json()
    kept = tmp_path / "faces" / "Lin" / ".not" / answer.get_json()["id"]
    assert kept.read_bytes() == crop
    for sent, status, words in (
        ({"sighting": 2}, 404, "no face crop"),
        ({"sighting": 99}, 404, "no sighting 99"),
        ({"sighting": "1"}, 400, "sighting"),
        ({"sighting": True}, 400, "sighting"),
        ({"photo": 1}, 400, "sighting"),
    ):
        answer = client.post("/api/people/Lin/not", json=sent)
        assert answer.status_code == status and words in answer.get_json()["error"], (sent, answer.get_json())


def test_the_api_refuses_what_cannot_be_a_negative(client: FlaskClient, data_dir: Path, tmp_path: Path) -> None:
    lin = (data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png").read_bytes()
    client.post("/api/people/Lin/photos", data={"photos": (io.BytesIO(lin), "l.png")})
    no_face = sorted((data_dir / "images_no_face").glob("*.jpg"))[0].read_bytes()
    group = sorted((data_dir / "images_multi_face").glob("*.jpg"))[0].read_bytes()
    for data, status, words in (
        (b"just words", 422, "not an image"),
        (no_face, 422, "no face"),
        (group, 422, "faces found"),
        (lin, 409, "own enrolled photo"),
    ):
        got, body = upload(client, "/api/people/Lin/not", data)
        assert got == status and words in body["error"], (got, body)
    assert client.post("/api/people/Lin/not").status_code == 400
    assert client.post("/api/people/..%2Fx/not", json={"sighting": 1}).status_code in (400, 404)
    assert client.get("/api/people/Nobody/not").status_code == 404
    assert not (tmp_path / "faces" / "Lin" / ".not").exists(), "nothing is kept of a refused image"


def test_negatives_are_an_admins_even_to_read() -> None:
    for method, path in (
        ("GET", "/api/people/Ada/not"),
        ("POST", "/api/people/Ada/not"),
        ("DELETE", "/api/people/Ada/not/x.jpg"),
    ):
        assert needed_role(method, path) == "admin"
    assert needed_role("GET", "/api/people") == "viewer"


def test_a_login_marks_a_negative_only_with_the_pages_csrf_token_and_a_viewer_not_at_all(
    tmp_path: Path, data_dir: Path
) -> None:
    app = make_auth_app(tmp_path)
    lin = (data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png").read_bytes()
    PeopleStore(tmp_path / "faces").add_photo("Lin", lin, ".png")
    stranger = (data_dir / "lfw_dev" / "images" / "Bernard_Law" / "Bernard_Law_0002.jpg").read_bytes()

    def mark(client: FlaskClient, headers: dict[str, str]) -> int:
        form = {"image": (io.BytesIO(stranger), "face.jpg")}
        return client.post("/api/people/Lin/not", data=form, headers=headers).status_code

    viewer = app.test_client()
    assert log_in(viewer, "guest", "guest password 1") == 302
    assert viewer.get("/api/people/Lin/not", headers=HOST).status_code == 403
    assert mark(viewer, {**HOST, "X-CSRFToken": page_csrf(viewer)}) == 403
    admin = app.test_client()
    assert log_in(admin, "boss", "boss password 1") == 302
    assert mark(admin, HOST) == 400, "a write with a login needs the page's CSRF token"
    assert mark(admin, {**HOST, "X-CSRFToken": page_csrf(admin)}) == 201
    assert admin.get("/api/people/Lin/not", headers=HOST).get_json()["count"] == 1
