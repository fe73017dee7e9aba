"""The visitors API: strangers recognised across sightings, their best face, naming them, forgetting them.

Listing and reading come from the tables the sightings service keeps
(shared/sightings/visitor_store.py). Naming a visitor is the one write: their
most typical face crops are enrolled as the person's photos through the same
flow as an upload (shared/people/enrol.py, so a worker reloading finds them
encoded already), their sightings that said "Unknown" are renamed, and
``people.changed`` is announced on the bus: the workers reload (the live view
names them from then on) and the sightings service stops matching strangers
with a visitor who is now someone. Forgetting a visitor deletes their
encodings and the pictures of their Unknown sightings; the sightings service
finds out when a sighting would join them (visitor_store.join refuses).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from sqlalchemy import Engine

from services.web.api_models import (
    ErrorBody,
    NameVisitorRequest,
    PhotoReport,
    VisitorDetail,
    VisitorItem,
    VisitorNamed,
    VisitorPage,
    VisitorRemoved,
    reply,
)
from services.web.green import off_loop
from services.web.people_api import storage_error
from services.web.query import LARGEST_ID, cursor_arg, flag_arg, install_history_errors, limit_arg, text_arg, time_arg
from services.web.sightings_api import send_picture
from shared.bus.announce import PeopleAnnouncer
from shared.config import Settings
from shared.people.enrol import enrol_photo
from shared.people.names import BadName, clean_name
from shared.people.photos import BadPhoto
from shared.people.store import Conflict, PeopleStore
from shared.sightings import removal, visitor_store
from shared.sightings.database import images_dir, picture_path

log = logging.getLogger(__name__)

NO_CROP = (
    "no face crop of this visitor could be enrolled (none kept: STORE_UNKNOWN_IMAGES=false, RETAIN_UNKNOWN_DAYS "
    "passed, or none held a face enrolment accepts): their sightings are renamed, but to recognise them live, "
    "enrol photos of them"
)


def visitor_item(row: visitor_store.VisitorRow) -> VisitorItem:
    """What the API says of one visitor in a list."""
    return VisitorItem(
        id=row.id,
        name=row.name,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        sightings=row.sightings,
        cameras=row.cameras,
    )


def create_visitors_api(
    settings: Settings, engine: Engine, people: PeopleStore, announcer: PeopleAnnouncer
) -> Blueprint:
    """The /api/visitors routes, on the sightings database; naming writes to the people store and the bus."""
    api = Blueprint("visitors", __name__, url_prefix="/api")
    install_history_errors(api)
    pictures = images_dir(settings).resolve()

    @api.errorhandler(BadName)
    def bad_name(problem: BadName) -> tuple[Response, int]:
        return reply(ErrorBody(error=f"bad name: {problem}"), 400)

    @api.errorhandler(Conflict)
    def conflict(problem: Conflict) -> tuple[Response, int]:
        return reply(ErrorBody(error=str(problem)), 409)

    @api.errorhandler(OSError)
    def disk_refused(problem: OSError) -> tuple[Response, int]:
        log.warning("%s %s failed on disk: %s", request.method, request.path, problem)
        return storage_error(problem)

    def found(visitor_id: int) -> visitor_store.VisitorRow:
        row = visitor_store.get(engine, visitor_id) if visitor_id <= LARGEST_ID else None
        if row is None:
            abort(404, description=f"no visitor {visitor_id} (retention deletes a visitor with their last sighting)")
        return row

    def detail(row: visitor_store.VisitorRow) -> VisitorDetail:
        faces = [face.sighting for face in visitor_store.best_faces(engine, row.id)]
        return VisitorDetail(**visitor_item(row).model_dump(), faces=faces)

    @api.get("/visitors")
    def list_visitors() -> tuple[Response, int]:
        narrowed = visitor_store.VisitorFilter(
            named=flag_arg("named"), since=time_arg("since"), camera=text_arg("camera", 64)
        )
        rows, next_cursor = visitor_store.page(engine, narrowed, limit_arg(), cursor_arg())
        return reply(VisitorPage(items=[visitor_item(row) for row in rows], next_cursor=next_cursor))

    @api.get("/visitors/<int:visitor_id>")
    def one_visitor(visitor_id: int) -> tuple[Response, int]:
        return reply(detail(found(visitor_id)))

    @api.get("/visitors/<int:visitor_id>/face.jpg")
    def best_face(visitor_id: int) -> Response:
        found(visitor_id)
        best = visitor_store.best_faces(engine, visitor_id, count=1)
        missing = f"visitor {visitor_id} has no face crop kept (STORE_UNKNOWN_IMAGES, RETAIN_UNKNOWN_DAYS)"
        return send_picture(pictures, best[0].face_path if best else None, missing)

    def enrol_crop(person: str, face: visitor_store.VisitorFace) -> PhotoReport:
        """One crop enrolled as a photo of ``person``, or why not."""
        file = f"sighting {face.sighting}"
        path = picture_path(pictures, face.face_path)
        if path is None:
            return PhotoReport(file=file, kept=False, reason="its crop is not under DATA_DIR/sightings")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return PhotoReport(file=file, kept=False, reason="its crop was deleted meanwhile (retention)")
        try:
            photo = off_loop(enrol_photo, settings, people, person, data)
        except BadPhoto as problem:
            return PhotoReport(file=file, kept=False, reason=str(problem))
        return PhotoReport(
            file=file,
            kept=True,
            photo_id=photo.photo_id,
            warning=photo.warning or None,
            already_enrolled=photo.already or None,
        )

    @api.post("/visitors/<int:visitor_id>/name")
    def name_visitor(visitor_id: int) -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return reply(ErrorBody(error='send JSON {"name": "Their name"}'), 400)
        person = clean_name(NameVisitorRequest(name=body["name"]).name)
        visitor = found(visitor_id)
        if visitor.name is not None and visitor.name != person:
            message = f"visitor {visitor_id} was named {visitor.name!r} already; rename that person instead"
            return reply(ErrorBody(error=message), 409)
        report: list[PhotoReport] = []
        named = False
        try:
            for face in visitor_store.best_faces(engine, visitor_id):
                report.append(enrol_crop(person, face))
            renamed = visitor_store.name(engine, visitor_id, person)
            named = True
        finally:  # whatever was done is announced, even when a full disk or the database ended it halfway
            kept = sum(entry.kept for entry in report)
            if kept or named:
                announcer.changed(f"named visitor {visitor_id} as {person} ({kept} photo(s) of their sightings added)")
        log.info("visitor %d named %s: %d crops enrolled, %d sightings renamed", visitor_id, person, kept, renamed)
        return reply(
            VisitorNamed(
                visitor=detail(found(visitor_id)),
                enrolled=kept,
                files=report,
                renamed=renamed,
                warning=None if kept else NO_CROP,
            )
        )

    @api.delete("/visitors/<int:visitor_id>")
    def forget_visitor(visitor_id: int) -> tuple[Response, int]:
        found(visitor_id)
        unlinked, paths = visitor_store.forget(engine, visitor_id)
        deleted = removal.delete_pictures(pictures, paths)
        log.info("visitor %d forgotten: %d sightings unlinked, %d pictures deleted", visitor_id, unlinked, deleted)
        return reply(VisitorRemoved(removed=visitor_id, sightings=unlinked, pictures=deleted))

    return api
