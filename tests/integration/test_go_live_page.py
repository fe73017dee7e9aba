"""Go live in a real browser: Chromium's fake webcam plays the hamilton clip, a host goes live, another page
watches it in the grid, the known face is named once he is enrolled, and closing the host takes it offline.

Screenshots of the host page and the grid are saved as test artefacts (/tmp/go_live_host.png,
/tmp/go_live_grid.png); the README shows them.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium, log_in, watched
from tests.harness import Pipeline, running_pipeline, wait_for, write_y4m

from playwright.sync_api import expect  # isort: skip  (after tests.browser, which skips without Playwright)

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "admin-password-for-the-test"
TOKEN = "go-live-page-token-0123456789"
KNOWN = "Lin_Manuel_Miranda"
SHOWN = "Lin Manuel Miranda"
"""How a person reads the name (the folder's underscores as spaces)."""
SHOTS = Path("/tmp")
SLOW_MS = 60_000
"""Enrolling runs dlib on the server and the workers reload: generous on a small CI machine."""


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("go-live-page")
    (workdir / "faces").mkdir()
    with running_pipeline(
        workdir, source="none", workers="1", admin_password=ADMIN_PASSWORD, api_token=TOKEN
    ) as running:
        yield running


def enrol(pipeline: Pipeline, photo: Path) -> None:
    """Add the known person's photo through the people API, as a program would."""
    boundary = "facestream-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{photo.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + photo.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{pipeline.base_url}/api/people/{KNOWN}/photos",
        data=body,
        headers={**pipeline.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.loads(answer.read())["kept"] >= 1


def test_a_browser_goes_live_is_watched_named_and_goes_offline(
    pipeline: Pipeline, data_dir: Path, tmp_path: Path
) -> None:
    webcam = write_y4m(data_dir / "video_hamilton" / "short_hamilton_clip.mp4", tmp_path / "webcam.y4m", 640, 9.0)
    base = pipeline.base_url
    with chromium(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={webcam}",
    ) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["camera"])
        hosting = watched(context.new_page())
        hosting.goto(f"{base}/go-live")
        log_in(hosting, "admin", ADMIN_PASSWORD)
        expect(hosting).to_have_url(f"{base}/go-live")
        hosting.fill("#camera-name", "laptop")
        hosting.click("#start")
        expect(hosting.locator("#status")).to_contain_text("Live as camera")
        expect(hosting.locator("#sent-fps")).to_contain_text("fps at 640 wide")

        # Another page (same login) sees the camera in the grid, and its stream plays.
        watching = watched(context.new_page())
        watching.goto(f"{base}/")
        laptop = watching.locator('figure.camera[data-camera="laptop"]')
        expect(laptop.locator('[data-role="status"]')).to_have_text("live")
        watching.wait_for_function(
            "() => document.querySelector('figure.camera[data-camera=\"laptop\"] img').naturalWidth > 0"
        )
        expect(hosting.locator("#viewers")).to_have_text("1")

        # Enrolled while live: the workers reload and the face in the webcam gets his name.
        enrol(pipeline, data_dir / "video_hamilton" / "reference" / KNOWN / "lin-manuel-miranda.png")
        expect(hosting.locator("#names")).to_contain_text(SHOWN, timeout=SLOW_MS)
        expect(laptop.locator('[data-role="people"]')).to_contain_text(SHOWN, timeout=SLOW_MS)
        assert any(face["name"] == KNOWN for face in pipeline.get_json("/api/results/laptop")["faces"])
        round_trips = hosting.evaluate("window.facestreamHost.roundTrips.length")
        assert round_trips > 0, "results came back to the host for frames it sent"
        hosting.screenshot(path=str(SHOTS / "go_live_host.png"))
        watching.screenshot(path=str(SHOTS / "go_live_grid.png"))
        assert hosting.problems == [] and watching.problems == [], (hosting.problems, watching.problems)  # type: ignore[attr-defined]

        # The camera's own page: the picture with or without the boxes, the names in view.
        laptop.locator("a.name").click()
        expect(watching).to_have_url(f"{base}/camera/laptop")
        laptop = watching.locator('figure.camera[data-camera="laptop"]')
        watching.wait_for_function("() => document.querySelector('figure.full img').naturalWidth > 0")
        expect(laptop.locator('[data-role="people"]')).to_contain_text(SHOWN, timeout=SLOW_MS)
        watching.uncheck("#overlay")
        expect(laptop.locator("img")).to_have_attribute("src", "/stream/laptop.mjpg?overlay=0")

        # The host closes its page: the camera goes offline, on the API and on the page.
        hosting.close()

        def offline() -> bool:
            cameras = {camera["id"]: camera for camera in pipeline.get_json("/api/cameras")["cameras"]}
            return cameras["laptop"]["status"] == "offline"

        wait_for(offline, 3.0, "camera laptop to go offline once its host page closed")
        expect(laptop.locator('[data-role="status"]')).to_have_text("offline")
