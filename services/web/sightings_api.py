"""The sightings API: who was seen, on which camera, when; and their pictures.

Reads the rows the sightings service writes (shared/sightings/, the same
table definitions); the one write is deleting a sighting the service is done
with (the Review page's "delete"), its pictures with it. Lists are newest first with keyset
pagination: ``next_cursor`` is handed back as ``?cursor=``. The pictures are
faces, so they are an admin's (services/web/auth.py decides: ``needed_role``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

from flask import Blueprint, Response, abort, send_file
from sqlalchemy import Engine

from services.web.api_models import (
    ErrorBody,
    NameSeenItem,
    NamesSeen,
    SightingItem,
    SightingPage,
    SightingRemoved,
    reply,
)
from services.web.query import LARGEST_ID, cursor_arg, id_arg, install_history_errors, limit_arg, text_arg, time_arg
from shared.config import Settings
from shared.sightings import removal, store
from shared.sightings.closing import settled
from shared.sightings.database import images_dir, picture_path

log = logging.getLogger(__name__)


def sighting_item(row: store.SightingRow) -> SightingItem:
    """What the API says of one sighting."""
    return SightingItem(
        id=row.id,
        camera=row.camera,
        name=row.name,
        visitor=row.visitor,
        start=row.start,
        end=row.end,
        confidence=row.confidence,
        frames=row.frames,
    )


def send_picture(pictures: Path, relative: str | None, missing: str) -> Response:
    """A sighting's JPEG under DATA_DIR/sightings (never outside it), or a 404 saying ``missing``."""
    path = picture_path(pictures, relative)
    if path is None or not path.is_file():
        abort(404, description=missing)
    return send_file(Path(path), mimetype="image/jpeg", max_age=0)


def create_sightings_api(settings: Settings, engine: Engine) -> Blueprint:
    """The /api/sightings routes, on the sightings database (opened at the first request)."""
    api = Blueprint("sightings", __name__, url_prefix="/api")
    install_history_errors(api)
    pictures = images_dir(settings).resolve()

    @api.get("/sightings")
    def list_sightings() -> tuple[Response, int]:
        narrowed = store.Filter(
            camera=text_arg("camera", 64),
            name=text_arg("name", 200),
            since=time_arg("since"),
            until=time_arg("until"),
            visitor=id_arg("visitor"),
        )
        rows, next_cursor = store.page(engine, narrowed, limit_arg(), cursor_arg())
        return reply(SightingPage(items=[sighting_item(row) for row in rows], next_cursor=next_cursor))

    def found(sighting_id: int) -> store.SightingRow:
        row = store.get(engine, sighting_id) if sighting_id <= LARGEST_ID else None
        if row is None:
            abort(404, description=f"no sighting {sighting_id}")
        return row

    @api.get("/sightings/names")
    def names_seen() -> tuple[Response, int]:
        seen = store.names_seen(engine)
        return reply(NamesSeen(names=[NameSeenItem(**asdict(one)) for one in seen]))

    @api.get("/sightings/<int:sighting_id>")
    def one_sighting(sighting_id: int) -> tuple[Response, int]:
        return reply(sighting_item(found(sighting_id)))

    def picture(relative: str | None, what: str, sighting_id: int) -> Response:
        missing = f"sighting {sighting_id} has no {what} (none was cut, or retention deleted it)"
        return send_picture(pictures, relative, missing)

    @api.get("/sightings/<int:sighting_id>/face.jpg")
    def face(sighting_id: int) -> Response:
        return picture(found(sighting_id).face_path, "face", sighting_id)

    @api.get("/sightings/<int:sighting_id>/snapshot.jpg")
    def snapshot(sighting_id: int) -> Response:
        return picture(found(sighting_id).snapshot_path, "snapshot", sighting_id)

    @api.delete("/sightings/<int:sighting_id>")
    def delete_sighting(sighting_id: int) -> tuple[Response, int]:
        row = found(sighting_id)
        if not settled(row.end, time.time(), settings.track_max_age_s):
            message = f"sighting {sighting_id} is still in view (or has just left): delete it once it has closed"
            return reply(ErrorBody(error=message), 409)
        removed = removal.remove(engine, sighting_id)
        if removed is None:
            abort(404, description=f"no sighting {sighting_id}")
        deleted = removal.delete_pictures(pictures, removed.pictures)
        log.info("sighting %d deleted with %d pictures", sighting_id, deleted)
        return reply(SightingRemoved(removed=sighting_id, pictures=deleted, visitor=removed.visitor))

    return api
