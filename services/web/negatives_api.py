"""Correcting the matcher over HTTP: "this is not Ana", from an uploaded image or a sighting's face.

The routes live on the people API's blueprint (services/web/people_api.py),
sharing its store (one lock for every change to the faces folder), its bus
announcer and its error answers. A face marked as not a person is kept in
their folder (shared/people/negatives.py) and announced as ``people.changed``,
so every worker, and the still-image recogniser, stop naming that person for
faces like it within a second. Who may call these is decided in
services/web/auth.py (admins only, reads included: they say who was taken
for whom).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, request
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from services.web.api_models import (
    ErrorBody,
    NegativeAdded,
    NegativeInfo,
    NegativeList,
    NegativeRemoved,
    NegativeRequest,
    reply,
)
from services.web.green import off_loop
from shared.bus.announce import PeopleAnnouncer
from shared.config import Settings
from shared.people.names import clean_name
from shared.people.negatives import mark_not
from shared.people.photos import BadPhoto, TooLargePhoto
from shared.people.store import NotFound, PeopleStore
from shared.sightings import store as sightings
from shared.sightings.database import database_url, images_dir, make_engine

log = logging.getLogger(__name__)

HOW = 'send the face as multipart/form-data, field "image" (one face), or JSON {"sighting": <id>}'
NO_DATABASE = "the sightings database is not there yet: is the sightings service running?"


class SightingFaces:
    """The best face crop of a sighting, read from the sightings' pictures (the engine connects on first use)."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(database_url(settings))
        self.pictures = images_dir(settings).resolve()

    def crop(self, sighting_id: int) -> bytes:
        """The crop's JPEG bytes; NotFound when there is no such sighting or no crop of it is kept."""
        row = sightings.get(self.engine, sighting_id)
        if row is None:
            raise NotFound(f"no sighting {sighting_id}")
        path = (self.pictures / row.face_path).resolve() if row.face_path else None
        if path is None or not path.is_relative_to(self.pictures) or not path.is_file():
            raise NotFound(f"sighting {sighting_id} has no face crop (none was cut, or retention deleted it)")
        return Path(path).read_bytes()


def install_negative_routes(api: Blueprint, settings: Settings, store: PeopleStore, announcer: PeopleAnnouncer) -> None:
    """Add /api/people/<name>/not (POST, GET) and /api/people/<name>/not/<negative_id> (DELETE) to ``api``."""
    faces_of_sightings = SightingFaces(settings)

    def error(status: int, message: str) -> tuple[Response, int]:
        return reply(ErrorBody(error=message), status)

    @api.post("/people/<name>/not")
    def mark_negative(name: str) -> tuple[Response, int]:
        name = clean_name(name)  # a bad name is refused before anything is read
        store.person(name)
        upload = request.files.get("image")
        sighting: int | None = None
        if upload is not None:
            data = upload.read()
        elif request.is_json:
            try:
                sighting = NegativeRequest.model_validate(request.get_json(silent=True)).sighting
            except ValidationError:
                return error(400, HOW)
            try:
                data = faces_of_sightings.crop(sighting)
            except SQLAlchemyError as problem:
                log.warning("sightings database: %s", str(problem).splitlines()[0])
                return error(503, NO_DATABASE)
        else:
            return error(400, HOW)
        try:
            marked = off_loop(mark_not, settings, store, name, data, sighting is not None)
        except TooLargePhoto as problem:
            return error(413, str(problem))
        except BadPhoto as problem:
            return error(422, str(problem))
        if marked.new:
            announcer.changed(f"marked a face as not {name}")
        body = NegativeAdded(
            person=name,
            id=marked.negative_id,
            added=marked.added,
            already=not marked.new,
            sighting=sighting,
            warning=marked.warning,
        )
        return reply(body, 201 if marked.new else 200)

    @api.get("/people/<name>/not")
    def list_negatives(name: str) -> tuple[Response, int]:
        found = store.negatives(name)
        listed = [NegativeInfo(id=negative.id, added=negative.added) for negative in found]
        return reply(NegativeList(person=clean_name(name), count=len(listed), negatives=listed))

    @api.delete("/people/<name>/not/<negative_id>")
    def remove_negative(name: str, negative_id: str) -> tuple[Response, int]:
        store.remove_negative(name, negative_id)
        announcer.changed(f"removed a face marked as not {clean_name(name)}")
        return reply(NegativeRemoved(removed=negative_id, person=clean_name(name)))
