"""The sightings API: who was seen, on which camera, when; and their pictures.

Reads the rows the sightings service writes (shared/sightings/, the same
table definitions), never writes them. Lists are newest first with keyset
pagination: ``next_cursor`` is handed back as ``?cursor=``. The pictures are
faces, so they are an admin's (services/web/auth.py decides: ``needed_role``).
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_file
from sqlalchemy.exc import SQLAlchemyError

from services.web.api_models import ErrorBody, SightingItem, SightingPage, reply
from shared.config import Settings
from shared.sightings import store
from shared.sightings.database import database_url, images_dir, make_engine

log = logging.getLogger(__name__)

DEFAULT_PAGE = 50
NOT_READY = "the sightings database is not there yet: is the sightings service running?"


class BadQuery(ValueError):
    """A query value that cannot be used; the message names it."""


def _time(key: str) -> float | None:
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


def _text(key: str, longest: int) -> str | None:
    text = request.args.get(key)
    if text is not None and not 1 <= len(text) <= longest:
        raise BadQuery(f"{key}: 1 to {longest} characters")
    return text


def _limit() -> int:
    text = request.args.get("limit", str(DEFAULT_PAGE))
    try:
        limit = int(text)
    except ValueError:
        raise BadQuery(f"limit: a whole number from 1 to {store.MAX_PAGE}, not {text[:20]!r}") from None
    if not 1 <= limit <= store.MAX_PAGE:
        raise BadQuery(f"limit: from 1 to {store.MAX_PAGE}")
    return limit


def _item(row: store.SightingRow) -> SightingItem:
    return SightingItem(
        id=row.id,
        camera=row.camera,
        name=row.name,
        start=row.start,
        end=row.end,
        confidence=row.confidence,
        frames=row.frames,
    )


def create_sightings_api(settings: Settings) -> Blueprint:
    """The /api/sightings routes, on the sightings database (opened at the first request)."""
    api = Blueprint("sightings", __name__, url_prefix="/api")
    engine = make_engine(database_url(settings))
    pictures = images_dir(settings).resolve()

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

    @api.get("/sightings")
    def list_sightings() -> tuple[Response, int]:
        narrowed = store.Filter(
            camera=_text("camera", 64), name=_text("name", 200), since=_time("since"), until=_time("until")
        )
        rows, next_cursor = store.page(engine, narrowed, _limit(), request.args.get("cursor") or None)
        return reply(SightingPage(items=[_item(row) for row in rows], next_cursor=next_cursor))

    def found(sighting_id: int) -> store.SightingRow:
        row = store.get(engine, sighting_id)
        if row is None:
            abort(404, description=f"no sighting {sighting_id}")
        return row

    @api.get("/sightings/<int:sighting_id>")
    def one_sighting(sighting_id: int) -> tuple[Response, int]:
        return reply(_item(found(sighting_id)))

    def picture(relative: str | None, what: str, sighting_id: int) -> Response:
        path = (pictures / relative).resolve() if relative else None
        if path is None or not path.is_relative_to(pictures) or not path.is_file():
            abort(404, description=f"sighting {sighting_id} has no {what} (none was cut, or retention deleted it)")
        return send_file(Path(path), mimetype="image/jpeg", max_age=0)

    @api.get("/sightings/<int:sighting_id>/face.jpg")
    def face(sighting_id: int) -> Response:
        return picture(found(sighting_id).face_path, "face", sighting_id)

    @api.get("/sightings/<int:sighting_id>/snapshot.jpg")
    def snapshot(sighting_id: int) -> Response:
        return picture(found(sighting_id).snapshot_path, "snapshot", sighting_id)

    return api
