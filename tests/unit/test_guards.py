"""The web's guards: a foreign Host name is refused (DNS rebinding), every answer carries the security headers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from services.web.app import create_app
from services.web.guards import SECURITY_HEADERS, allowed_names, host_allowed
from shared.config import load_config

TOKEN = "unit-test-token-0123456789"


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8080", True),
        ("192.168.1.20:8080", True),  # an address: a rebinding page cannot make the browser send one
        ("[::1]:8080", True),
        ("localhost:8080", True),
        (f"{socket.gethostname()}:8080", True),
        ("cams.example.org", True),
        ("door.cams.example.org", True),
        ("attacker.example:8080", False),
        ("example.org.attacker.example", False),
        ("", False),
    ],
)
def test_addresses_this_machine_and_the_allowed_names_pass_other_names_do_not(host: str, allowed: bool) -> None:
    assert host_allowed(host, allowed_names("cams.example.org, .cams.example.org")) is allowed


def test_a_star_allows_any_name() -> None:
    assert host_allowed("anything.example", allowed_names("*"))


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("CONFIG_FILE", str(tmp_path / "none.toml"))
    settings = load_config(source="none", data_dir=tmp_path / "data", faces_dir=tmp_path / "faces", api_token=TOKEN)
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def test_a_forged_host_gets_no_data(client: FlaskClient) -> None:
    answer = client.get("/api/people", headers={"Host": "rebound.attacker.example"})
    assert answer.status_code == 400 and "ALLOWED_HOSTS" in answer.get_json()["error"]
    assert "people" not in answer.get_json()
    assert client.get("/api/people", headers={"Host": "127.0.0.1:8080"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/people", "/api/people", "/api/docs", "/healthz", "/no-such-page"])
def test_every_answer_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    answer = client.get(path, headers={"Host": "127.0.0.1:8080"})
    for header, value in SECURITY_HEADERS.items():
        assert answer.headers.get(header) == value, (path, header)
