"""Reading the query string of the history APIs (sightings, visitors): each value checked, a bad one named.

A value that cannot be used raises :class:`BadQuery`, which the blueprints
answer as a 400 saying which parameter and why (:func:`install_history_errors`,
with the other errors of reading the sightings database).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError

from services.web.api_models import ErrorBody, reply
from shared.sightings import store

log = logging.getLogger(__name__)

DEFAULT_PAGE = 50
NOT_READY = "the sightings database is not there yet: is the sightings service running?"
LARGEST_ID = 2**31 - 1
"""The largest id a row can have (the tables' ids are SQL INTEGER, 32 bits on PostgreSQL): a larger one is no
row's, answered without asking the database (which would fail to compare it, not find nothing)."""


class BadQuery(ValueError):
    """A query value that cannot be used; the message names it."""


def time_arg(key: str) -> float | None:
    """A time parameter: Unix seconds, or an ISO 8601 date and time (UTC unless it says otherwise)."""
    text = request.args.get(key)
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise BadQuery(f"{key}: a finite number of Unix seconds, not {text[:40]!r}")
        return seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{key}: Unix seconds or an ISO 8601 time (2026-01-31T18:00:00Z), not {text[:40]!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def text_arg(key: str, longest: int) -> str | None:
    text = request.args.get(key)
    if text is not None and not 1 <= len(text) <= longest:
        raise BadQuery(f"{key}: 1 to {longest} characters")
    return text


def id_arg(key: str) -> int | None:
    """A positive whole number naming a row (a visitor's id)."""
    text = request.args.get(key)
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= LARGEST_ID:
        raise BadQuery(f"{key}: an id (a whole number from 1), not {text[:20]!r}")
    return int(text)


def flag_arg(key: str) -> bool | None:
    text = request.args.get(key)
    if text is None:
        return None
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise BadQuery(f"{key}: true or false, not {text[:20]!r}")


def limit_arg() -> int:
    text = request.args.get("limit", str(DEFAULT_PAGE))
    try:
        limit = int(text)
    except ValueError:
        raise BadQuery(f"limit: a whole number from 1 to {store.MAX_PAGE}, not {text[:20]!r}") from None
    if not 1 <= limit <= store.MAX_PAGE:
        raise BadQuery(f"limit: from 1 to {store.MAX_PAGE}")
    return limit


def cursor_arg() -> str | None:
    return request.args.get("cursor") or None


def install_history_errors(api: Blueprint) -> None:
    """A bad query value or cursor is a 400 naming it; a database not made yet (or unreachable) a 503."""

    @api.errorhandler(SQLAlchemyError)
    def not_ready(error: SQLAlchemyError) -> tuple[Response, int]:
        log.warning("sightings database: %s", str(error).splitlines()[0])
        return reply(ErrorBody(error=NOT_READY), 503)

    @api.errorhandler(BadQuery)
    def bad_query(error: BadQuery) -> tuple[Response, int]:
        return reply(ErrorBody(error=str(error)), 400)

    @api.errorhandler(store.BadCursor)
    def bad_cursor(error: store.BadCursor) -> tuple[Response, int]:
        return reply(ErrorBody(error=f"cursor: {error}"), 400)
