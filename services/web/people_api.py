"""The people API: enrol, list, rename, forget, and recognise a photo, over HTTP.

Everything that changes or exports faces needs the bearer token. Every
change is written to FACES_DIR by the store (atomically) and announced on the
bus as ``people.changed``, so every worker reloads its gallery at once.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any, Callable

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from services.infer.known_faces import remember
from services.people.names import BadName, clean_name
from services.people.photos import BadPhoto, prepare_enrolment, read_image
from services.people.store import Conflict, NotFound, PeopleStore
from services.infer.recognizer import Recognizer
from shared import schema
from shared.bus import Publisher
from shared.config import Settings
from shared.token import token_matches

log = logging.getLogger(__name__)

class Announcer:
    """Tells the bus the people changed; one socket shared by request threads, so behind a lock."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._publisher = Publisher(settings)

    def changed(self, what: str) -> None:
        with self._lock:
            self._publisher.send(schema.PEOPLE, "changed", schema.PeopleChanged(change=what, ts=time.time()))
        log.info("people changed: %s", what)


def error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """A JSON error a client can show as is."""
    return jsonify(error=message, **extra), status


def create_people_api(settings: Settings, token: str) -> Blueprint:
    """The /api people routes, bound to the settings' folders and the token."""
    api = Blueprint("people", __name__, url_prefix="/api")
    store = PeopleStore(settings.faces_dir)
    recognizer = Recognizer(settings)
    announcer = Announcer(settings)

    def needs_token(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not token_matches(token, request.headers.get("Authorization")):
                response, status = error(401, "this needs the API token: send 'Authorization: Bearer <token>' "
                                              "(printed at start, kept in DATA_DIR/api-token)")
                response.headers["WWW-Authenticate"] = 'Bearer realm="facestream"'
                return response, status
            return view(*args, **kwargs)
        return guarded

    @api.errorhandler(BadName)
    def bad_name(problem: BadName) -> tuple[Response, int]:
        return error(400, f"bad name: {problem}")

    @api.errorhandler(NotFound)
    def not_found(problem: NotFound) -> tuple[Response, int]:
        return error(404, str(problem))

    @api.errorhandler(Conflict)
    def conflict(problem: Conflict) -> tuple[Response, int]:
        return error(409, str(problem))

    def person_json(person: Any) -> dict:
        return {
            "name": person.name,
            "photos": len(person.photos),
            "added": person.added,
            "photo_ids": [photo.id for photo in person.photos],
        }

    @api.get("/token")
    @needs_token
    def check_token() -> Response:
        return jsonify(ok=True)

    @api.get("/people")
    def list_people() -> Response:
        return jsonify(people=[person_json(person) for person in store.people()])

    @api.post("/people/<name>/photos")
    @needs_token
    def add_photos(name: str) -> tuple[Response, int]:
        name = clean_name(name)  # a bad name is refused before any file is read
        uploads = request.files.getlist("photos")
        if not uploads:
            return error(400, "send the photos as multipart/form-data, field 'photos' (repeat it for several)")
        report = []
        for upload in uploads:
            entry: dict[str, Any] = {"file": upload.filename or "(unnamed)"}
            try:
                enrolment = prepare_enrolment(upload.read(), settings.upsample)
                remember(settings.data_dir, settings.upsample, enrolment.data, enrolment.outcome)  # before it lands
                photo = store.add_photo(name, enrolment.data, enrolment.suffix)
                entry.update(kept=True, photo_id=photo.id)
                if enrolment.warning:
                    entry["warning"] = enrolment.warning
            except BadPhoto as problem:
                entry.update(kept=False, reason=str(problem))
            report.append(entry)
        kept = sum(entry["kept"] for entry in report)
        if kept:
            announcer.changed(f"added {kept} photo(s) of {name}")
        return jsonify(person=name, kept=kept, files=report), 201 if kept else 422

    @api.get("/people/<name>/photos/<photo_id>")
    @needs_token
    def get_photo(name: str, photo_id: str) -> Response:
        response = send_file(store.photo_path(name, photo_id), max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @api.delete("/people/<name>/photos/<photo_id>")
    @needs_token
    def delete_photo(name: str, photo_id: str) -> tuple[Response, int]:
        store.remove_photo(name, photo_id)
        announcer.changed(f"removed photo {photo_id} of {name}")
        return jsonify(removed=photo_id, person=name), 200

    @api.delete("/people/<name>")
    @needs_token
    def delete_person(name: str) -> tuple[Response, int]:
        store.remove_person(name)
        announcer.changed(f"removed {name}")
        return jsonify(removed=name), 200

    @api.patch("/people/<name>")
    @needs_token
    def rename_person(name: str) -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return error(400, 'send JSON {"name": "New name"}')
        new_name = store.rename(name, body["name"])
        if new_name != clean_name(name):
            announcer.changed(f"renamed {name} to {new_name}")
        return jsonify(person_json(store.person(new_name))), 200

    @api.post("/recognize")
    @needs_token
    def recognize() -> tuple[Response, int]:
        upload = request.files.get("image")
        if upload is None:
            return error(400, "send the image as multipart/form-data, field 'image'")
        try:
            rgb, _ = read_image(upload.read())
        except BadPhoto as problem:
            return error(400, str(problem))
        found = recognizer.recognize(rgb)
        return jsonify(
            width=found.width, height=found.height,
            faces=[face.model_dump(mode="json", include={"box", "name", "distance", "confidence"})
                   for face in found.faces],
        ), 200

    @api.errorhandler(413)
    def too_large(_: HTTPException) -> tuple[Response, int]:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return error(413, f"the upload is larger than {limit / 1e6:.0f} MB")

    return api
