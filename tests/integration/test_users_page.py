"""The Users and Account pages in a real browser (Debian's Chromium driven by Playwright) against the real services.

One walk: the admin adds a viewer and resets their password, makes a view
token that is shown once (and works), revokes it; the viewer does not see the
Users link, is refused the page, changes their own password on the Account page
and logs in with the new one. Four logins: the server allows five a minute.
Skipped, saying why, without Chromium or Playwright.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium, log_in, watched
from tests.harness import Pipeline, running_pipeline

from playwright.sync_api import Page, expect  # isort: skip  (after tests.browser, which skips without it)

pytestmark = pytest.mark.integration


ADMIN_PASSWORD = "admin-password-for-the-test"
SCREENSHOT = Path("/tmp/users_page.png")
RESET_PASSWORD = "given-by-the-admin"
OWN_PASSWORD = "chosen-by-vera-herself"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("users-page")
    with running_pipeline(workdir, source="none", workers="1", admin_password=ADMIN_PASSWORD) as running:
        yield running


@pytest.fixture()
def page(pipeline: Pipeline) -> Iterator[Page]:
    with chromium() as browser:
        opened = watched(browser.new_context(viewport={"width": 1300, "height": 900}).new_page())
        opened.on("dialog", lambda dialog: dialog.accept())  # "Remove ...?", "Revoke ...?"
        yield opened


def me_with(pipeline: Pipeline, token: str) -> int:
    """The status of /api/me with a bearer token: 200 while it works."""
    request = urllib.request.Request(f"{pipeline.base_url}/api/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["role"] == "viewer"
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_admin_manages_accounts_and_tokens_and_a_viewer_changes_their_password(
    page: Page, pipeline: Pipeline
) -> None:
    base = pipeline.base_url
    page.goto(f"{base}/users")
    expect(page).to_have_url(f"{base}/login?next=/users")
    log_in(page, "admin", ADMIN_PASSWORD)
    expect(page).to_have_url(f"{base}/users")
    expect(page.locator("#nav-users")).to_be_visible()
    expect(page.locator("tr[data-user=admin]")).to_contain_text("admin")

    # Add a viewer, then give them a password from this page (an admin resetting a forgotten one).
    page.fill("#user-name", "vera")
    page.select_option("#user-role", "viewer")
    page.fill("#user-password", "first-password-typed")
    page.click("#add-user button[type=submit]")
    expect(page.locator("#status")).to_have_text("Added vera.")
    vera = page.locator("tr[data-user=vera]")
    expect(vera.locator("select.role")).to_have_value("viewer")
    vera.get_by_role("button", name="Reset password", exact=True).click()
    vera.get_by_label("New password for vera").fill(RESET_PASSWORD)
    vera.get_by_role("button", name="Set password", exact=True).click()
    expect(page.locator("#status")).to_have_text("New password set for vera.")

    # A view token: shown once with a stream URL, and it works; gone from the page once put away.
    page.fill("#token-name", "hall-display")
    page.select_option("#token-scope", "view")
    page.click("#make-token button[type=submit]")
    made = page.locator("#token-made")
    expect(made).to_be_visible()
    expect(made).to_contain_text("shown this once")
    expect(page.locator("#token-value")).to_have_value(re.compile(r"^fst_[\w-]{40,}$"))
    token = page.locator("#token-value").input_value()
    expect(page.locator("#token-example")).to_have_text(f"{base}/stream/<camera>.mjpg?token={token}")
    expect(page.locator("tr[data-token=hall-display]")).to_contain_text("view")
    assert me_with(pipeline, token) == 200
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("#token-hide")
    expect(made).to_be_hidden()
    page.reload()
    expect(page.locator("tr[data-token=hall-display]")).to_be_visible()
    assert token not in page.content(), "the token is shown once only"
    page.locator("tr[data-token=hall-display]").get_by_role("button", name="Revoke").click()
    expect(page.locator("#status")).to_have_text("Revoked hall-display.")
    expect(page.locator("tr[data-token=hall-display]")).to_have_count(0)
    assert me_with(pipeline, token) == 401

    page.click(".account button[type=submit]")
    expect(page).to_have_url(f"{base}/login")

    # The viewer: no Users link, no Users page; their own password changes on the Account page.
    page.goto(f"{base}/account")
    log_in(page, "vera", RESET_PASSWORD)
    expect(page).to_have_url(f"{base}/account")
    expect(page.locator(".account")).to_contain_text("vera (viewer)")
    expect(page.locator("#nav-users")).to_have_count(0)
    page.fill("#current-password", RESET_PASSWORD)
    page.fill("#new-password", OWN_PASSWORD)
    page.fill("#repeat-password", OWN_PASSWORD)
    page.click("#change-password button[type=submit]")
    expect(page.locator("#status")).to_contain_text("Password changed")
    refused = page.goto(f"{base}/users")
    assert refused is not None and refused.status == 403
    page.goto(f"{base}/")
    expect(page.locator("#nav-account")).to_be_visible()
    expect(page.locator("#nav-users")).to_have_count(0)

    # Logged out, the old password no longer opens the door; the new one does.
    page.click(".account button[type=submit]")
    expect(page).to_have_url(f"{base}/login")
    log_in(page, "vera", RESET_PASSWORD)
    expect(page.locator(".login .error")).to_contain_text("Wrong name or password")
    log_in(page, "vera", OWN_PASSWORD)
    expect(page).to_have_url(f"{base}/")
    expect(page.locator(".account")).to_contain_text("vera (viewer)")
    assert page.problems == [], page.problems  # type: ignore[attr-defined]
