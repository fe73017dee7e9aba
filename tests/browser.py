"""What the browser tests share: Debian's Chromium under Playwright, a page that records its own errors, the login.

A module that imports this is skipped, saying why, without Playwright or
Chromium (`make test` installs both where it can: scripts/install-browser.sh).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if importlib.util.find_spec("playwright") is None:
    pytest.skip(
        "the browser test needs Playwright: make test installs it (requirements-dev.txt)", allow_module_level=True
    )
if not CHROMIUM.is_file():
    pytest.skip(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium(*args: str) -> Iterator[Browser]:
    """Chromium, closed at the end whatever happens."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*BASE_ARGS, *args])
        try:
            yield browser
        finally:
            browser.close()


def watched(page: Page) -> Page:
    """The page, noting its script errors in ``page.problems`` (failed loads, such as an expected 403, are not)."""
    page.problems = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and page.problems.append(f"console: {message.text}")  # type: ignore[attr-defined]
        ),
    )
    return page


def log_in(page: Page, name: str, password: str) -> None:
    """Fill the login form and send it (the page is the login page)."""
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")
