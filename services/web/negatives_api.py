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

from flask import Blueprint, Response, request
from pydantic import ValidationError

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
from services.web.sighting_faces import SightingFaces
from shared.bus.announce import PeopleAnnouncer
from shared.config import Settings
from shared.people.names import clean_name
from shared.people.negatives import mark_not
from shared.people.photos import BadPhoto, TooLargePhoto
from shared.people.store import PeopleStore

log = logging.getLogger(__name__)

HOW = 'send the face as multipart/form-data, field "image" (one face), or JSON {"sighting": <id>}'


def install_negative_routes(
    api: Blueprint,
    settings: Settings,
    store: PeopleStore,
    announcer: PeopleAnnouncer,
    faces_of_sightings: SightingFaces,
) -> None:
    """Add /api/people/<name>/not (POST, GET) and /api/people/<name>/not/<negative_id> (DELETE) to ``api``."""

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
            data = faces_of_sightings.crop(sighting)  # no database: the people blueprint's 503
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
