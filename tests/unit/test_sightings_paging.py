"""Paging through a few thousand sightings with GET /api/sightings (the Flask app's test client), on SQLite and on a
real PostgreSQL: every row exactly once, newest first, under each filter; and on SQLite each page's query is an
index range read in the listing's order (no scan of the table, no sort of every match), read from its query plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, insert

from services.web.app import create_app
from shared.config import load_config
from shared.sightings.database import upgrade
from shared.sightings.tables import sightings

TOKEN = "unit-test-token-0123456789"
ROWS = 3000
CAMERAS = ("door", "hall", "yard", "gate")
NAMES = ("Ada", "Bo", "Cy", "Unknown")
PAGE = 137


def made_rows() -> list[dict[str, Any]]:
    """Rows with many equal start times (the id breaks the tie) and overlapping spans."""
    rows = []
    for number in range(ROWS):
        start = 1_000_000.0 + (number // 3) * 7.0 + (number % 5 == 0) * 0.5
        name = NAMES[number % 4]
        rows.append(
            {
                "id": number + 1,
                "camera": CAMERAS[(number // 2) % 4],
                "track_id": number,
                "name": name,
                "start_ts": start,
                "end_ts": start + (number % 11),
                "confidence": 80.0,
                "frames": 5,
                "visitor": (number % 3) + 1 if name == "Unknown" else None,
            }
        )
    return rows


@pytest.fixture
def filled(empty_database: Engine) -> list[dict[str, Any]]:
    upgrade(empty_database)
    rows = made_rows()
    with empty_database.begin() as connection:
        connection.execute(insert(sightings), rows)
    return rows


@pytest.fixture
def client(empty_database: Engine, filled: list[dict[str, Any]], tmp_path: Path) -> FlaskClient:
    url = empty_database.url.render_as_string(hide_password=False)
    settings = load_config(
        data_dir=tmp_path, faces_dir=tmp_path / "faces", source="none", api_token=TOKEN, database_url=url
    )
    client = create_app(settings, start_listener=False).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


FILTERS: list[dict[str, Any]] = [
    {},
    {"camera": "door"},
    {"name": "Ada"},
    {"camera": "hall", "name": "Unknown"},
    {"visitor": 3},
    {"since": 1_002_000.0, "until": 1_005_000.0},
    {"camera": "yard", "since": 1_003_000.0},
]


def expected(rows: list[dict[str, Any]], narrowed: dict[str, Any]) -> list[int]:
    kept = [
        row
        for row in rows
        if all(row[key] == narrowed[key] for key in ("camera", "name", "visitor") if key in narrowed)
        and ("since" not in narrowed or row["end_ts"] >= narrowed["since"])
        and ("until" not in narrowed or row["start_ts"] <= narrowed["until"])
    ]
    return [row["id"] for row in sorted(kept, key=lambda row: (row["start_ts"], row["id"]), reverse=True)]


def every_page(client: FlaskClient, narrowed: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    query: dict[str, Any] = {**narrowed, "limit": PAGE}
    while True:
        answer = client.get("/api/sightings", query_string=query)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        yield body["items"]
        if body["next_cursor"] is None:
            return
        query["cursor"] = body["next_cursor"]


@pytest.mark.parametrize("narrowed", FILTERS, ids=lambda narrowed: ",".join(narrowed) or "all")
def test_every_row_once_newest_first(
    client: FlaskClient, filled: list[dict[str, Any]], narrowed: dict[str, Any]
) -> None:
    pages = list(every_page(client, narrowed))
    ids = [item["id"] for page in pages for item in page]
    want = expected(filled, narrowed)
    assert len(want) > PAGE, "each filter spans several pages"
    assert len(ids) == len(set(ids)), "a row came twice"
    assert ids == want
    assert all(len(page) == PAGE for page in pages[:-1]) and 0 < len(pages[-1]) <= PAGE


@pytest.fixture
def statements(client: FlaskClient) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT on the sightings table the app sends, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM sightings" in statement:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize("empty_database", ["sqlite"], indirect=True)  # PostgreSQL's planner picks by statistics
@pytest.mark.parametrize("narrowed", FILTERS, ids=lambda narrowed: ",".join(narrowed) or "all")
def test_each_page_reads_an_index_in_order(
    client: FlaskClient, empty_database: Engine, statements: list[tuple[str, Any]], narrowed: dict[str, Any]
) -> None:
    pages = list(every_page(client, narrowed))
    assert len(statements) == len(pages), statements
    with empty_database.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        for statement, parameters in statements:
            plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert any("USING INDEX" in step or "USING INTEGER PRIMARY KEY" in step for step in plan), plan
            assert not any(step == "SCAN sightings" for step in plan), f"a scan of the whole table: {plan}"
            assert not any("TEMP B-TREE" in step for step in plan), f"every match sorted: {plan}"
