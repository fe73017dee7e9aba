"""Fixtures shared by every test: where the face data is, and skipping cleanly without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import DATA


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data`` beside the repository; tests that need it skip, saying why, when it is absent."""
    if not (DATA / "README.md").is_file():
        pytest.skip(f"face data not found at {DATA} (set FACESTREAM_TEST_DATA to its folder to run this test)")
    return DATA
