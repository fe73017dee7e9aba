"""Who may do what, on the web app itself: logins, roles, the token, CSRF, the login limit, AUTH=off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.web.app import create_app
from services.web.auth import needed_role, safe_next
from shared.accounts import AccountStore
from shared.config import load_config

TOKEN = "unit-test-token-0123456789"
HOST = {"Host": "127.0.0.1:8080"}


def make_app(folder: Path, **settings: object) -> Flask:
    settings = {"source": "none", **settings}
    loaded = load_config(data_dir=folder, faces_dir=folder / "faces", api_token=TOKEN, **settings)
    store = AccountStore(folder)
    store.add("boss", "admin", "boss password 1")
    store.add("guest", "viewer", "guest password 1")
    return create_app(loaded, start_listener=False)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


def log_in(client: FlaskClient, name: str, password: str, next_path: str = "/") -> int:
    page = client.get("/login", headers=HOST).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"name": name, "password": password, "csrf_token": csrf, "next": next_path}
    return client.post("/login", data=form, headers=HOST).status_code


def page_csrf(client: FlaskClient) -> str:
    page = client.get("/people", headers=HOST).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.mark.parametrize("path", ["/api/cameras", "/api/people", "/api/results/door", "/stream/door.mjpg", "/metrics"])
def test_without_a_credential_programs_get_401_and_no_data(app: Flask, path: str) -> None:
    answer = app.test_client().get(path, headers=HOST)
    assert answer.status_code == 401 and "error" in answer.get_json()
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_without_a_credential_pages_lead_to_the_login_and_only_healthz_is_open(app: Flask) -> None:
    client = app.test_client()
    for path in ("/", "/people", "/api/docs"):
        answer = client.get(path, headers=HOST)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next="), path
    assert client.get("/healthz", headers=HOST).status_code in (200, 503)
    assert client.get("/login", headers=HOST).status_code == 200
    assert client.get("/static/style.css", headers=HOST).status_code == 200


def test_an_admin_logs_in_and_a_write_needs_the_pages_csrf_token(app: Flask) -> None:
    client = app.test_client()
    assert log_in(client, "boss", "wrong password!") == 401
    assert log_in(client, "boss", "boss password 1") == 302
    assert client.get("/api/me", headers=HOST).get_json() == {"name": "boss", "role": "admin"}
    forged = client.patch("/api/people/Ada", json={"name": "Bob"}, headers=HOST)
    assert forged.status_code == 400 and "CSRF" in forged.get_json()["error"]
    allowed = client.patch("/api/people/Ada", json={"name": "Bob"}, headers={**HOST, "X-CSRFToken": page_csrf(client)})
    assert allowed.status_code == 404  # past the guard: there is no Ada


def test_a_viewer_reads_but_neither_sees_photos_nor_changes_anything(app: Flask) -> None:
    client = app.test_client()
    assert log_in(client, "guest", "guest password 1") == 302
    assert client.get("/api/people", headers=HOST).status_code == 200
    assert client.get("/api/people/Ada/photos/x.jpg", headers=HOST).status_code == 403
    csrf = {**HOST, "X-CSRFToken": page_csrf(client)}
    answer = client.delete("/api/people/Ada", headers=csrf)
    assert answer.status_code == 403 and "admin" in answer.get_json()["error"]


def test_the_api_token_is_an_admin_and_a_wrong_one_is_nobody(app: Flask) -> None:
    client = app.test_client()
    me = client.get("/api/me", headers={**HOST, "Authorization": f"Bearer {TOKEN}"})
    assert me.get_json() == {"name": "api-token", "role": "admin"}
    assert client.get("/api/me", headers={**HOST, "Authorization": "Bearer wrong-token-wrong"}).status_code == 401


def test_logins_are_limited_per_address(app: Flask) -> None:
    client = app.test_client()
    codes = [log_in(client, "boss", f"guess number {attempt}") for attempt in range(7)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429


def test_after_login_only_a_path_on_this_site_is_followed() -> None:
    assert safe_next("/people") == "/people"
    assert safe_next("//evil.example/x") == "/" and safe_next("https://evil.example/") == "/" and safe_next(None) == "/"


def test_the_rule_of_roles() -> None:
    assert needed_role("GET", "/healthz") is None and needed_role("GET", "/login") is None
    assert needed_role("GET", "/stream/door.mjpg") == "viewer" and needed_role("GET", "/api/people") == "viewer"
    assert needed_role("GET", "/api/people/Ada/photos/1.jpg") == "admin"
    assert needed_role("POST", "/api/recognize") == "admin" and needed_role("POST", "/logout") == "viewer"
    assert needed_role("GET", "/users") == "admin" and needed_role("GET", "/api/users") == "admin"
    assert needed_role("GET", "/account") == "viewer" and needed_role("POST", "/api/me/password") == "viewer"


def test_auth_off_lets_anyone_in(tmp_path: Path) -> None:
    client = make_app(tmp_path, auth=False).test_client()
    assert client.get("/api/cameras", headers=HOST).status_code == 200
    assert client.get("/api/me", headers=HOST).get_json()["role"] == "admin"


def test_named_tokens_are_shown_once_scoped_and_revocable(app: Flask, tmp_path: Path) -> None:
    admin = {**HOST, "Authorization": f"Bearer {TOKEN}"}
    client = app.test_client()
    made = client.post("/api/tokens", json={"name": "wall", "scope": "view"}, headers=admin)
    assert made.status_code == 201
    view_token = made.get_json()["token"]
    assert view_token not in (tmp_path / "api-tokens.json").read_text(), "only its digest is kept"
    assert client.get("/api/tokens", headers=admin).get_json()["tokens"][0]["name"] == "wall"

    as_view = {**HOST, "Authorization": f"Bearer {view_token}"}
    assert client.get("/api/me", headers=as_view).get_json() == {"name": "token:wall", "role": "viewer"}
    assert client.delete("/api/people/Ada", headers=as_view).status_code == 403
    assert client.get("/api/tokens", headers=as_view).status_code == 403
    # A wall display's <img> cannot send a header: a stream takes the token from the query (nothing else does).
    assert client.get(f"/stream/door.mjpg?token={view_token}", headers=HOST).status_code == 404  # past the guard
    assert client.get(f"/api/cameras?token={view_token}", headers=HOST).status_code == 401

    assert client.delete("/api/tokens/wall", headers=admin).status_code == 200
    assert client.get("/api/me", headers=as_view).status_code == 401
    assert client.post("/api/tokens", json={"name": "x", "scope": "root"}, headers=admin).status_code == 400
    writer = client.post("/api/tokens", json={"name": "importer", "scope": "write"}, headers=admin).get_json()["token"]
    assert client.delete("/api/people/Ada", headers={**HOST, "Authorization": f"Bearer {writer}"}).status_code == 404


def test_only_an_admin_may_watch_a_stream_unblurred(tmp_path: Path) -> None:
    app = make_app(tmp_path, source="door=rtsp://127.0.0.1:9/none", blur="unknown")
    client = app.test_client()
    assert log_in(client, "guest", "guest password 1") == 302
    refused = client.get("/stream/door.mjpg?blur=0", headers=HOST)
    assert refused.status_code == 403 and "admin" in refused.get_json()["error"]
    allowed = client.get("/stream/door.mjpg", headers=HOST)
    assert allowed.status_code == 200
    allowed.close()
    admin = client.get("/stream/door.mjpg?blur=0", headers={**HOST, "Authorization": f"Bearer {TOKEN}"})
    assert admin.status_code == 200
    admin.close()


def test_one_address_holds_only_its_share_of_streams(tmp_path: Path) -> None:
    app = make_app(tmp_path, source="door=rtsp://127.0.0.1:9/none", max_streams_per_client=2)
    client = app.test_client()
    admin = {**HOST, "Authorization": f"Bearer {TOKEN}"}
    first, second = (client.get("/stream/door.mjpg", headers=admin) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    third = client.get("/stream/door.mjpg", headers=admin)
    assert third.status_code == 429 and "MAX_STREAMS_PER_CLIENT" in third.get_json()["error"]
    other = client.get("/stream/door.mjpg", headers=admin, environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200, "another address has its own share"
    first.close()  # a viewer leaving gives its slot back
    again = client.get("/stream/door.mjpg", headers=admin)
    assert again.status_code == 200
    for response in (second, other, again):
        response.close()


def test_an_account_changes_its_own_password_knowing_the_current_one(app: Flask) -> None:
    client = app.test_client()
    assert log_in(client, "guest", "guest password 1") == 302
    headers = {**HOST, "X-CSRFToken": page_csrf(client)}
    wrong = client.post(
        "/api/me/password", json={"current": "not it at all", "new": "a brand new one"}, headers=headers
    )
    assert wrong.status_code == 403
    short = client.post("/api/me/password", json={"current": "guest password 1", "new": "short"}, headers=headers)
    assert short.status_code == 400
    done = client.post(
        "/api/me/password", json={"current": "guest password 1", "new": "a brand new one"}, headers=headers
    )
    assert done.status_code == 200
    fresh = app.test_client()
    assert log_in(fresh, "guest", "guest password 1") == 401 and log_in(fresh, "guest", "a brand new one") == 302
