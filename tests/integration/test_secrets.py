"""Secrets never shown, and a foreign Host refused, against the real services on loopback.

A camera whose URI carries a password (``rtsp://admin:<password>@127.0.0.1:9``:
nothing listens there, so it stays "no signal" and its error messages quote
the URI) and an API token are given through files (SOURCE_FILE,
API_TOKEN_FILE), as the README advises; then every page, API answer, metric,
log line and the start-up message is searched for either secret.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from tests.harness import Pipeline, wait_for

pytestmark = pytest.mark.integration

PASSWORD = "s3cr3t-camera-pw"
TOKEN = "t0ken-that-must-never-be-shown"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("secrets")
    (workdir / "source").write_text(f"door=rtsp://admin:{PASSWORD}@127.0.0.1:9/live?password={PASSWORD}\n")
    (workdir / "token").write_text(TOKEN + "\n")
    (workdir / "faces").mkdir()
    running = Pipeline.configure(
        workdir, source_file=str(workdir / "source"), api_token_file=str(workdir / "token"), workers="1"
    )
    try:
        running.start()
        yield running
        running.stop()
    finally:
        running.kill_leftovers()  # a failed start must leave no process behind


def _get(pipeline: Pipeline, path: str, host: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", int(pipeline.env["PORT"]), timeout=10)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", **({"Host": host} if host else {})}
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace")
    finally:
        connection.close()


def test_no_page_answer_or_log_shows_the_camera_password_or_the_token(pipeline: Pipeline) -> None:
    def camera_reported() -> dict | None:
        status, body = _get(pipeline, "/api/cameras")
        return body if status == 200 and "no frames yet" not in body and '"door"' in body else None

    cameras = wait_for(camera_reported, 60, "the camera's first status (no signal, with its reason)")
    assert "admin:***@127.0.0.1:9/live" in cameras, cameras  # shown, masked
    seen = {"/api/cameras": cameras}
    for path in ("/", "/people", "/healthz", "/metrics", "/api/people", "/api/openapi.json", "/api/docs"):
        status, body = _get(pipeline, path)
        assert status == 200, (path, status)
        seen[path] = body
    seen["launch output"] = (pipeline.workdir / "launch.out").read_text(errors="replace")
    seen["logs"] = "".join(path.read_text(errors="replace") for path in pipeline.logs.glob("*.log"))
    assert "cannot open" in seen["logs"], "the capture must have logged why the camera has no signal"
    leaks = [(where, secret) for where, text in seen.items() for secret in (PASSWORD, TOKEN) if secret in text]
    assert leaks == []


def test_a_forged_host_name_gets_no_data_from_the_real_server(pipeline: Pipeline) -> None:
    status, body = _get(pipeline, "/api/cameras", host="rebound.attacker.example")
    assert status == 400 and "ALLOWED_HOSTS" in body and "door" not in body
    status, _ = _get(pipeline, "/api/cameras", host="localhost")
    assert status == 200


def test_the_access_log_says_who_asked_for_what_without_query_strings(pipeline: Pipeline) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(pipeline.env["PORT"]), timeout=10)
    try:
        connection.request("GET", "/api/token", headers={"Authorization": f"Bearer {TOKEN}"})
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    status, _ = _get(pipeline, "/api/cameras?probe=query-value-not-logged")
    assert status == 200

    def logged() -> list[str] | None:
        lines = pipeline.log("web").splitlines()
        token_lines = [line for line in lines if "api-token" in line and '"GET /api/token"' in line and " 200 " in line]
        camera_lines = [line for line in lines if '"GET /api/cameras"' in line]
        return token_lines + camera_lines if token_lines and camera_lines else None

    lines = wait_for(logged, 10, "the access log lines of both requests")
    assert not any("query-value-not-logged" in line or TOKEN in line for line in lines), lines
