"""The People page in a real browser (Debian's Chromium driven by Playwright) against the real services.

One walk through the page as a user takes it: a wrong token is refused with a
clear message, the right one opens the page; photos are uploaded and the
per-file report says what was kept and why not; the person is listed with a
thumbnail (fetched with the token); snapshots come from the browser's (fake)
camera and from a facestream camera; a photo is recognised and its faces
drawn; the person is renamed to a name with an apostrophe and a diacritic,
loses a photo, and is deleted with their sightings (the dialog's box ticked).
Skipped, saying why, without Chromium or Playwright (`make test` installs both
where it can: scripts/install-browser.sh).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.config import load_config
from shared.sightings import store
from shared.sightings.database import database_url, make_engine
from tests.browser import chromium, log_in, watched
from tests.harness import Pipeline, running_pipeline, wait_for

from playwright.sync_api import Page, expect  # isort: skip  (after tests.browser, which skips without it)

pytestmark = pytest.mark.integration


SCREENSHOT = Path("/tmp/people_page.png")
SLOW_MS = 60_000
"""Enrolling or recognising a photo runs dlib on the server; generous on a small CI machine."""


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("people-page")
    (workdir / "faces").mkdir()
    clip = data_dir / "video_hamilton" / "short_hamilton_clip.mp4"
    with running_pipeline(workdir, source=f"hamilton={clip}", workers="1", admin_password=ADMIN_PASSWORD) as running:
        running.add_account("viewer", "viewer", VIEWER_PASSWORD)
        yield running


@pytest.fixture()
def page(pipeline: Pipeline):
    fake_webcam = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    with chromium(*fake_webcam) as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.grant_permissions(["camera"])
        opened = watched(context.new_page())
        opened.on("dialog", lambda dialog: dialog.accept())
        yield opened


ADMIN_PASSWORD = "admin-password-for-the-test"
VIEWER_PASSWORD = "viewer-password-for-the-test"


def person_card(page: Page, name: str):
    return page.locator(".person").filter(has=page.locator(".person-name", has_text=name))


def test_the_people_page_from_login_to_delete(page: Page, pipeline: Pipeline, data_dir: Path) -> None:
    """The whole page, in the order a user meets it; one screenshot on the way."""
    lin = data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png"
    group = data_dir / "images_multi_face" / "ageitgey__two_people.jpg"
    dog = data_dir / "images_no_face" / "davisking__dog.jpg"

    # Nothing without a login: the page sends the user to it, a wrong password is refused, the right one returns.
    page.goto(f"{pipeline.base_url}/people")
    expect(page).to_have_url(f"{pipeline.base_url}/login?next=/people")
    log_in(page, "admin", "certainly-not-the-password")
    expect(page.locator(".login .error")).to_contain_text("Wrong name or password")
    log_in(page, "admin", ADMIN_PASSWORD)
    expect(page).to_have_url(f"{pipeline.base_url}/people")
    expect(page.get_by_role("link", name="Live", exact=True)).to_have_attribute("href", "/")
    expect(page.get_by_role("link", name="Go live", exact=True)).to_have_attribute("href", "/go-live")
    expect(page.locator("nav a", has_text="API")).to_have_attribute("href", "/api/docs")
    expect(page.locator(".account")).to_contain_text("admin (admin)")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#viewer-note")).to_be_hidden()
    expect(page.locator("#people-list")).to_contain_text("Nobody is known yet")

    # A name the server refuses: its reason is shown, nothing is uploaded.
    page.fill("#add-name", "Unknown")
    page.set_input_files("#add-files", [str(lin)])
    page.click("#add-upload")
    expect(page.locator("#report")).to_contain_text("is reserved")
    expect(page.locator("#people-list")).to_contain_text("Nobody is known yet")

    # Upload: a photo kept, a group photo kept with a warning, a dog skipped with the reason.
    page.fill("#add-name", "Lin-Manuel Miranda")
    page.set_input_files("#add-files", [str(lin), str(group), str(dog)])
    page.click("#add-upload")
    report = page.locator("#report")
    expect(report).to_contain_text("2 of 3 files enrolled", timeout=SLOW_MS)
    expect(report.locator("li.skipped")).to_contain_text("no face found")
    expect(report.locator("li.warned")).to_contain_text("the largest was cut out and enrolled")
    expect(report).not_to_contain_text("null")
    card = person_card(page, "Lin-Manuel Miranda")
    expect(card).to_contain_text("2 photos")
    expect(card.locator(".advice")).to_contain_text("Add more photos")  # 2 photos: named less often, and told so

    # The same photo again: said to be enrolled already, not "kept", and stored once.
    page.fill("#add-name", "Lin-Manuel Miranda")
    page.set_input_files("#add-files", [str(lin)])
    page.click("#add-upload")
    expect(report).to_contain_text("nothing new enrolled", timeout=SLOW_MS)
    expect(report.locator("li.already")).to_contain_text("already enrolled")
    expect(card).to_contain_text("2 photos")
    expect(card.locator(".thumb img")).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.person .thumb img')]"
        ".every(i => i.src.startsWith('blob:') && i.naturalWidth > 0)",
        timeout=SLOW_MS,
    )

    # The browser's own camera (Chromium's fake device: a test pattern, no face): snapshot, upload, told why not.
    page.click("#tab-webcam")
    page.click("#webcam-start")
    expect(page.locator("#webcam-snap")).to_be_enabled()
    page.wait_for_function("() => document.getElementById('webcam').videoWidth > 0")
    page.click("#webcam-snap")
    expect(page.locator("#snapshot-list img")).to_have_count(1)
    page.click("#snapshots-upload")
    expect(report).to_contain_text("nothing new enrolled", timeout=SLOW_MS)
    expect(report.locator("li.skipped")).to_contain_text("webcam-1.jpg")
    expect(page.locator("#snapshots")).to_be_hidden()

    # A facestream camera: one raw frame cut out of the MJPEG stream.
    page.click("#tab-server")
    expect(page.locator("#webcam")).to_be_hidden()
    expect(page.locator("#camera-select option")).to_have_text(["hamilton"])
    page.click("#camera-grab")
    expect(page.locator("#snapshot-list img")).to_have_count(1, timeout=15_000)
    page.wait_for_function("() => document.querySelector('#snapshot-list img').naturalWidth === 640")
    page.click("#snapshots-clear")
    expect(page.locator("#snapshots")).to_be_hidden()

    # Recognise: the boxes are drawn and the faces named.
    page.set_input_files("#recognize-file", str(lin))
    expect(page.locator("#recognize-faces li")).to_have_count(1, timeout=SLOW_MS)
    expect(page.locator("#recognize-faces")).to_contain_text("Lin-Manuel Miranda")
    expect(page.locator("#recognize-canvas")).to_be_visible()
    page.set_input_files("#recognize-file", str(data_dir / "lfw_dev" / "images" / "AJ_Cook" / "AJ_Cook_0001.jpg"))
    expect(page.locator("#recognize-faces")).to_contain_text("Unknown", timeout=SLOW_MS)
    page.set_input_files("#recognize-file", str(lin))
    expect(page.locator("#recognize-faces")).to_contain_text("Lin-Manuel Miranda", timeout=SLOW_MS)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Rename to a name that would break naive HTML or selectors; the thumbnails follow.
    card.get_by_role("button", name="Rename").click()
    editing = page.locator(".person.editing")
    editing.locator("form.rename input").fill("Lin O'Zoë")
    editing.locator("form.rename button[type=submit]").click()
    renamed = person_card(page, "Lin O'Zoë")
    expect(renamed).to_contain_text("2 photos")
    expect(page.locator("#status")).to_contain_text("Renamed Lin-Manuel Miranda to Lin O'Zoë")
    assert (Path(pipeline.env["FACES_DIR"]) / "Lin O'Zoë").is_dir()

    # Delete one photo, then the person, ticking "also delete their sightings" (one of them seen long ago).
    renamed.locator(".thumb .remove").first.click(force=True)
    expect(renamed).to_contain_text("1 photo ·")
    sightings = make_engine(database_url(load_config(data_dir=Path(pipeline.env["DATA_DIR"]), source="none")))
    seen_long_ago = store.add(sightings, "hamilton", 10_000, "Lin O'Zoë", 1000.0, 90)
    renamed.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.locator("#forget-dialog")
    expect(dialog).to_contain_text("Forget Lin O'Zoë?")
    expect(dialog.locator("#forget-sightings-label")).to_contain_text(re.compile(r"Also delete their \d+ sightings?"))
    dialog.get_by_label(re.compile("Also delete their")).check()
    dialog.get_by_role("button", name="Forget").click()
    expect(page.locator("#people-list")).to_contain_text("Nobody is known yet")
    expect(page.locator("#status")).to_contain_text(
        re.compile(r"Their sightings: \d+ sightings and \d+ pictures deleted")
    )
    assert not any(Path(pipeline.env["FACES_DIR"]).iterdir())
    assert store.get(sightings, seen_long_ago) is None
    sightings.dispose()

    # Log out: the page is closed again.
    page.click(".account button[type=submit]")
    expect(page).to_have_url(f"{pipeline.base_url}/login")
    page.goto(f"{pipeline.base_url}/people")
    expect(page).to_have_url(f"{pipeline.base_url}/login?next=/people")

    # A viewer sees the list but may not change it: told so on the page and by the server.
    log_in(page, "viewer", VIEWER_PASSWORD)
    expect(page.locator("#viewer-note")).to_be_visible()
    page.fill("#add-name", "Ada")
    page.set_input_files("#add-files", [str(lin)])
    page.click("#add-upload")
    expect(page.locator("#report")).to_contain_text("needs an admin")
    assert not any(Path(pipeline.env["FACES_DIR"]).iterdir())

    # The live page: every camera's status and the names in view come over one events channel, then the stream.
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlsplit(request.url).path))
    page.goto(f"{pipeline.base_url}/")
    camera = page.locator('figure.camera[data-camera="hamilton"]')
    expect(camera.locator('[data-role="status"]')).to_have_text("live")
    expect(camera.locator('[data-role="people"]')).to_contain_text("nobody is enrolled yet", timeout=SLOW_MS)
    expect(page.locator("#no-people")).to_be_visible()  # says how to add people, not "Unknown 100%"
    expect(camera.locator("img")).to_have_attribute("src", "/stream/hamilton.mjpg")
    page.wait_for_function("() => document.querySelector('figure.camera img').naturalWidth > 0")
    assert [path for path in asked if path.startswith("/api/")] == ["/api/events"], asked

    # The web restarts: the page's events channel reconnects by itself and starts the streams again.
    pipeline.supervisorctl("restart", "web")
    expect(camera.locator("img")).to_have_attribute("src", re.compile(r"since=\d+"), timeout=SLOW_MS)
    wait_for(
        lambda: pipeline.get_json("/api/cameras")["cameras"][0]["viewers"] >= 1,
        30,
        "the page to watch the stream again after the web restarted (the new web counts its viewers afresh)",
    )
    expect(camera.locator('[data-role="status"]')).to_have_text("live")

    # On a phone (390x844) no page scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/people", "/go-live", "/api/docs", "/camera/hamilton"):
        page.goto(f"{pipeline.base_url}{path}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls {overflow} px sideways at 390 px wide"
    assert page.problems == [], page.problems  # type: ignore[attr-defined]
