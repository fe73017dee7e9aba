"""The accounts API (/api/users) against the real services: who may call it, what it changes, what it never shows.

One server for the module: logins are limited to 5 a minute per address, so
the tests share the admin's login and use at most four in all.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Pipeline, running_pipeline

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "admin-password-for-the-test"
USER_ROUTES = [
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"name": "mallory", "role": "admin", "password": "mallory password"}),
    ("PUT", "/api/users/admin/password", {"password": "taken over at last"}),
    ("PUT", "/api/users/admin/role", {"role": "viewer"}),
    ("DELETE", "/api/users/admin", None),
]
"""Every /api/users route, with a body an attacker would send."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A login's 302 is its answer: not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """A browser without a browser: a cookie jar, the page's CSRF token, and every body it was sent."""

    def __init__(self, base_url: str, seen: list[bytes], headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.seen = seen
        self.headers = dict(headers or {})
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def send(self, method: str, path: str, body: dict[str, Any] | None = None, form: bytes | None = None):
        """Status and JSON (or text) of one request, whatever the status."""
        headers = dict(self.headers)
        data = form
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        self.seen.append(raw)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def log_in(self, name: str, password: str) -> int:
        """302 when the login is taken, 401 when refused; afterwards writes carry the page's CSRF token."""
        _, page = self.send("GET", "/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"name": name, "password": password, "csrf_token": csrf, "next": "/"})
        status, _ = self.send("POST", "/login", form=form.encode())
        if status == 302:
            _, account_page = self.send("GET", "/account")
            self.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', account_page).group(1)
        return status


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("users-api")
    with running_pipeline(workdir, source="none", workers="1", admin_password=ADMIN_PASSWORD) as running:
        yield running


@pytest.fixture(scope="module")
def seen() -> list[bytes]:
    """Every body the server sent in this module: checked for password hashes at the end."""
    return []


@pytest.fixture(scope="module")
def admin(pipeline: Pipeline, seen: list[bytes]) -> Client:
    client = Client(pipeline.base_url, seen)
    assert client.log_in("admin", ADMIN_PASSWORD) == 302
    return client


def test_without_a_credential_every_user_route_is_401(pipeline: Pipeline, seen: list[bytes]) -> None:
    nobody = Client(pipeline.base_url, seen)
    for method, path, body in USER_ROUTES:
        status, answer = nobody.send(method, path, body)
        assert status == 401 and "error" in answer, (method, path)
    status, _ = nobody.send("GET", "/users")
    assert status == 302, "the page leads to the login"


def test_a_view_token_is_refused_every_user_route(pipeline: Pipeline, admin: Client, seen: list[bytes]) -> None:
    status, made = admin.send("POST", "/api/tokens", {"name": "wall", "scope": "view"})
    assert status == 201
    wall = Client(pipeline.base_url, seen, {"Authorization": f"Bearer {made['token']}"})
    for method, path, body in USER_ROUTES:
        assert wall.send(method, path, body)[0] == 403, (method, path)
    assert admin.send("DELETE", "/api/tokens/wall")[0] == 200


def test_bad_input_is_a_400_with_the_reason(admin: Client) -> None:
    for body in (
        {"name": "vera", "role": "viewer"},  # no password
        {"name": "vera", "role": "root", "password": "long enough pw"},
        {"name": "Vera Lynn", "role": "viewer", "password": "long enough pw"},
        {"name": "vera", "role": "viewer", "password": "short"},
        {"name": "vera", "role": "viewer", "password": "long enough pw", "extra": 1},
    ):
        status, answer = admin.send("POST", "/api/users", body)
        assert status == 400 and answer["error"], body
    assert admin.send("PUT", "/api/users/admin/password", {"pass": "x"})[0] == 400
    assert admin.send("PUT", "/api/users/admin/role", {"role": "root"})[0] == 400
    assert admin.send("PUT", "/api/users/nobody/password", {"password": "long enough pw"})[0] == 404
    assert admin.send("DELETE", "/api/users/nobody")[0] == 404


def test_the_last_admin_stays(admin: Client) -> None:
    status, answer = admin.send("DELETE", "/api/users/admin")
    assert status == 409 and "last admin" in answer["error"]
    status, answer = admin.send("PUT", "/api/users/admin/role", {"role": "viewer"})
    assert status == 409 and "last admin" in answer["error"]
    assert admin.send("GET", "/api/me")[1] == {"name": "admin", "role": "admin"}


def test_an_admin_adds_resets_and_removes_an_account(pipeline: Pipeline, admin: Client, seen: list[bytes]) -> None:
    status, made = admin.send("POST", "/api/users", {"name": "Vera", "role": "viewer", "password": "vera first pw"})
    assert status == 201 and set(made) == {"name", "role", "created"} and made["name"] == "vera"
    assert admin.send("POST", "/api/users", {"name": "vera", "role": "viewer", "password": "vera again pw"})[0] == 409
    status, listed = admin.send("GET", "/api/users")
    assert status == 200 and [(user["name"], user["role"]) for user in listed["users"]] == [
        ("admin", "admin"),
        ("vera", "viewer"),
    ]

    # The new account logs in with its password, and as a viewer may call none of /api/users (not even GET).
    vera = Client(pipeline.base_url, seen)
    assert vera.log_in("vera", "vera first pw") == 302
    assert vera.send("GET", "/api/me")[1] == {"name": "vera", "role": "viewer"}
    for method, path, body in USER_ROUTES:
        status, answer = vera.send(method, path, body)
        assert status == 403 and "admin" in answer["error"], (method, path)
    assert vera.send("GET", "/users")[0] == 403

    # A reset password replaces the old one, and ends the sessions opened with the old one.
    status, answer = admin.send("PUT", "/api/users/vera/password", {"password": "vera second pw"})
    assert (status, answer) == (200, {"changed": "vera"})
    assert vera.send("GET", "/api/me")[0] == 401, "a session opened with the old password ended"
    assert Client(pipeline.base_url, seen).log_in("vera", "vera first pw") == 401
    vera = Client(pipeline.base_url, seen)
    assert vera.log_in("vera", "vera second pw") == 302

    # A role changes both ways; then the account goes, and its login with it.
    assert admin.send("PUT", "/api/users/vera/role", {"role": "admin"})[1]["role"] == "admin"
    assert vera.send("GET", "/api/users")[0] == 200, "the role holds from the next request"
    assert admin.send("PUT", "/api/users/vera/role", {"role": "viewer"})[1]["role"] == "viewer"
    assert admin.send("DELETE", "/api/users/vera") == (200, {"removed": "vera"})
    assert vera.send("GET", "/api/me")[0] == 401
    assert [user["name"] for user in admin.send("GET", "/api/users")[1]["users"]] == ["admin"]
    assert "vera" in pipeline.log("web"), "the changes are logged"


def test_no_answer_carried_a_password_or_its_hash(pipeline: Pipeline, seen: list[bytes]) -> None:
    assert seen, "the tests above ran first"
    hashes = json.loads((Path(pipeline.env["DATA_DIR"]) / "users.json").read_text())["accounts"]
    secrets = [b"$argon2", b"password_hash", ADMIN_PASSWORD.encode(), b"vera second pw"]
    secrets += [account["password_hash"].encode() for account in hashes]
    assert [secret for secret in secrets for body in seen if secret in body] == []
