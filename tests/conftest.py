"""Fixtures shared by every test: where the face data is, and skipping cleanly without it (failing in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` beside the repository; tests that need it skip, saying why, when it is absent."""
    if not (DATA / "README.md").is_file():
        pytest.skip(f"face data not found at {DATA} (set FACESTREAM_TEST_DATA to its folder to run this test)")
    return DATA


REQUIRE_ALL = os.environ.get("FACESTREAM_REQUIRE_ALL", "") not in ("", "0")
"""Set by .ci/run: a test that would skip (no face data, no Chromium, no Playwright) fails instead, so a green CI
means every test ran."""


def _skip_is_failure(report: pytest.CollectReport | pytest.TestReport) -> None:
    if REQUIRE_ALL and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but FACESTREAM_REQUIRE_ALL demands every test run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    _skip_is_failure(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _skip_is_failure(outcome.get_result())
