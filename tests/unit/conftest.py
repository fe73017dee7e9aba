"""Fixtures of the unit tests: a sightings database of each kind (SQLite always, PostgreSQL when it can run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shared.sightings.database import make_engine
from tests.postgres import fresh_database, postgres_server, why_not


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway PostgreSQL server for the session's storage tests."""
    reason = why_not()
    if reason:
        pytest.skip(f"PostgreSQL storage tests skipped: {reason}")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database: an SQLite file, or a new database on the test's PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sightings.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    yield engine
    engine.dispose()
