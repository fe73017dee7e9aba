"""The History and Review pages in a real browser (Debian's Chromium under Playwright) against the real pipeline.

The Bill Clinton clip plays on two cameras (``door`` and ``yard``), nobody
enrolled: he is a stranger with a visitor id. The admin's History lists his
sightings with their faces and narrows them to one camera; on the Review page
the admin names his visitor, after which the live results name him, and marks
a face of his later sighting "Not Bill Clinton" (a negative example is kept).
A viewer sees the rows but no face and no action. Both pages fit a phone
(390 px wide, no horizontal scroll). Screenshots: /tmp/history_page.png,
/tmp/review_page.png (docs/images/ has them as JPEGs). Skipped, saying why,
without Chromium or Playwright.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium, log_in, watched
from tests.harness import Pipeline, running_pipeline, wait_for

from playwright.sync_api import Browser, Page, expect  # isort: skip  (after tests.browser, which skips without it)

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "admin-password-for-the-test"
VIEWER_PASSWORD = "viewer-password-for-the-test"
NAME = "Bill Clinton"
SHOTS = Path("/tmp")
VISITOR_S = 120.0
"""Workers loading, the clip's ~10 s without a face, and a few seconds of encodings, on a loaded 2-core machine."""
AGAIN_S = 120.0
"""The clip (39 s) coming round again, its empty start, and his new sighting's crop."""
SLOW_MS = 60_000
PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def pipeline(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("history-review")
    (workdir / "faces").mkdir()
    clip = data_dir / "video_bill_clinton" / "Bill_Clinton.avi"
    with running_pipeline(
        workdir, source=f"door={clip},yard={clip}", workers="2", every_n="2", admin_password=ADMIN_PASSWORD
    ) as running:
        running.add_account("vera", "viewer", VIEWER_PASSWORD)
        yield running


@pytest.fixture(scope="module")
def bill(pipeline: Pipeline) -> int:
    """Bill Clinton's visitor id, once both cameras have a sighting of him (the door's with a visitor)."""

    def both_cameras() -> int | None:
        items = pipeline.get_json("/api/sightings?limit=100")["items"]
        door = [item["visitor"] for item in items if item["camera"] == "door" and item["visitor"]]
        return door[0] if door and any(item["camera"] == "yard" for item in items) else None

    return wait_for(both_cameras, VISITOR_S, "a visitor at the door and a sighting in the yard")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def logged_in(browser: Browser, path: str, name: str, password: str) -> Page:
    page = watched(browser.new_context(viewport={"width": 1300, "height": 900}).new_page())
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(path)
    log_in(page, name, password)
    expect(page).to_have_url(path)
    return page


def fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('li.sighting, article.group').length > 0")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{page.url} scrolls sideways at 390 px"


def test_the_history_lists_sightings_with_faces_and_filters_by_camera(
    browser: Browser, pipeline: Pipeline, bill: int
) -> None:
    page = logged_in(browser, f"{pipeline.base_url}/history", "admin", ADMIN_PASSWORD)
    expect(page.locator("#viewer-note")).to_be_hidden()
    page.wait_for_function(
        "() => ['door', 'yard'].every((camera) => document.querySelector(`li.sighting[data-camera=${camera}]`))"
    )
    page.wait_for_function("() => [...document.querySelectorAll('li.sighting img')].some((i) => i.naturalWidth > 0)")
    expect(page.locator("li.sighting", has_text=f"visitor {bill}").first).to_be_visible()
    page.select_option("#filter-camera", "yard")
    page.click("#filters button[type=submit]")
    page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('li.sighting')];"
        " return rows.length > 0 && rows.every((row) => row.dataset.camera === 'yard'); }"
    )
    page.screenshot(path=str(SHOTS / "history_page.png"))
    fits_a_phone(page)
    assert page.problems == [], page.problems  # type: ignore[attr-defined]


def test_the_review_page_names_a_visitor_and_marks_a_face_as_not_him(
    browser: Browser, pipeline: Pipeline, bill: int
) -> None:
    page = logged_in(browser, f"{pipeline.base_url}/review", "admin", ADMIN_PASSWORD)
    visitor = page.locator(f"article.group[data-visitor='{bill}']")
    expect(visitor.locator("li.crop").first).to_be_visible()
    named_at = time.time()
    visitor.get_by_label(f"Name of visitor {bill}").fill(NAME)
    visitor.get_by_role("button", name="Name", exact=True).click()
    expect(page.locator("#status")).to_contain_text(f"Visitor {bill} is {NAME}", timeout=SLOW_MS)
    him = page.locator(f"article.group[data-person='{NAME}']")
    expect(him).to_be_visible()
    expect(page.locator(f"article.group[data-visitor='{bill}']")).to_have_count(0)
    wait_for(
        lambda: [face for face in pipeline.get_json("/api/results/door")["faces"] if face["name"] == NAME],
        90,
        f"the door camera's live results to name {NAME}",
    )

    # A face of his seen after the naming (so not one of the crops enrolled as his photos) is marked not him.
    def later_face() -> int | None:
        query = urllib.parse.urlencode({"name": NAME, "since": named_at})
        later = [item["id"] for item in pipeline.get_json(f"/api/sightings?{query}")["items"]]
        later = [item for item in later if pipeline.get_json(f"/api/sightings/{item}")["start"] > named_at]
        return next((item for item in later if pipeline.get(f"/api/sightings/{item}/face.jpg")[0] == 200), None)

    sighting = wait_for(later_face, AGAIN_S, f"a sighting of {NAME} begun after the naming, with a face crop")
    page.click("#refresh")
    crop = him.locator(f"li.crop[data-sighting='{sighting}']")
    expect(crop).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('li.crop img')].every((i) => i.complete) && "
        "[...document.querySelectorAll('li.crop img')].some((i) => i.naturalWidth > 0)"
    )
    page.screenshot(path=str(SHOTS / "review_page.png"))
    crop.get_by_role("button", name=f"Not {NAME}", exact=True).click()
    expect(page.locator("#status")).to_contain_text(f"not {NAME}", timeout=SLOW_MS)
    negatives = pipeline.get_json(f"/api/people/{urllib.parse.quote(NAME)}/not")
    assert negatives["count"] == 1, negatives
    fits_a_phone(page)
    assert page.problems == [], page.problems  # type: ignore[attr-defined]


def test_a_viewer_sees_no_faces_and_no_actions(browser: Browser, pipeline: Pipeline, bill: int) -> None:
    page = logged_in(browser, f"{pipeline.base_url}/history", "vera", VIEWER_PASSWORD)
    expect(page.locator("#viewer-note")).to_be_visible()
    expect(page.locator("li.sighting").first).to_be_visible()
    assert page.locator("li.sighting img").count() == 0
    page.goto(f"{pipeline.base_url}/review")
    expect(page.locator("#viewer-note")).to_be_visible()
    expect(page.locator("article.group").first).to_be_visible()
    assert page.locator("#groups img, #groups button, #groups input").count() == 0
    fits_a_phone(page)
    assert page.problems == [], page.problems  # type: ignore[attr-defined]
