"""The people API: enrol, list, rename, forget (with their sightings, if asked), correct ("this is not Ana") and
recognise a photo, over HTTP.

Who may call what is decided in one place, services/web/auth.py (admins change and export). Every
change is written to FACES_DIR by the store (atomically) and announced on the
bus as ``people.changed``, so every worker reloads its gallery at once.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterable

from flask import Blueprint, Response, current_app, request, send_file
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from services.web.api_models import (
    ErrorBody,
    PeopleList,
    PersonRemoved,
    PersonSummary,
    PhotoFromSighting,
    PhotoRemoved,
    PhotoReport,
    Recognition,
    RecognizedFace,
    RenameRequest,
    TokenCheck,
    UploadReport,
    reply,
)
from services.web.green import off_loop
from services.web.negatives_api import install_negative_routes
from services.web.sighting_faces import NO_DATABASE, SightingFaces
from shared.bus.announce import PeopleAnnouncer
from shared.config import Settings
from shared.faces.recognizer import Recognizer
from shared.people.enrol import added_change, enrol_photo
from shared.people.names import BadName, clean_name
from shared.people.photos import BadPhoto, TooLargePhoto, read_image
from shared.people.store import Conflict, NotFound, PeopleStore, PersonInfo
from shared.sightings import removal
from shared.sightings.closing import settled_before

log = logging.getLogger(__name__)

DELETE_SIGHTINGS = "delete"
KEEP_SIGHTINGS = "keep"
"""The values of DELETE /api/people/<name>?sightings=: a person's sightings stay unless asked."""
HOW_PHOTOS = (
    "send the photos as multipart/form-data, field 'photos' (repeat it for several), "
    'or JSON {"sighting": <id>} to enrol that sighting\'s face crop'
)


def error(status: int, message: str) -> tuple[Response, int]:
    """A JSON error a client can show as is."""
    return reply(ErrorBody(error=message), status)


NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
CANNOT_WRITE = {errno.EROFS, errno.EACCES, errno.EPERM}


def storage_error(problem: OSError) -> tuple[Response, int]:
    """A disk that refused a change, as an answer: 507 when it is full, 503 when it cannot be written, else 500."""
    reason = problem.strerror or str(problem)
    if problem.errno in NO_SPACE:
        return error(507, f"no space left to store it ({reason}); nothing was changed by the failed write")
    if problem.errno == errno.EROFS:
        return error(503, f"the faces folder or the cache is read-only ({reason}); nothing was changed")
    if problem.errno in CANNOT_WRITE:
        return error(503, f"the faces folder or the cache cannot be written ({reason}); nothing was changed")
    return error(500, f"the change failed on disk ({reason})")


def person_summary(person: PersonInfo) -> PersonSummary:
    """What the API says of one known person."""
    return PersonSummary(
        name=person.name,
        photos=len(person.photos),
        added=person.added,
        photo_ids=[photo.id for photo in person.photos],
        negatives=person.negatives,
    )


def create_people_api(
    settings: Settings, store: PeopleStore, announcer: PeopleAnnouncer, sightings_engine: Engine
) -> Blueprint:
    """The /api people routes, on the web's people store, announcing each change on the bus."""
    api = Blueprint("people", __name__, url_prefix="/api")
    recognizer = Recognizer(settings)
    faces_of_sightings = SightingFaces(settings, sightings_engine)

    @api.errorhandler(BadName)
    def bad_name(problem: BadName) -> tuple[Response, int]:
        return error(400, f"bad name: {problem}")

    @api.errorhandler(NotFound)
    def not_found(problem: NotFound) -> tuple[Response, int]:
        return error(404, str(problem))

    @api.errorhandler(Conflict)
    def conflict(problem: Conflict) -> tuple[Response, int]:
        return error(409, str(problem))

    @api.errorhandler(SQLAlchemyError)
    def no_sightings_database(problem: SQLAlchemyError) -> tuple[Response, int]:
        """A sighting's crop asked for (a photo, a negative) while the sightings database cannot be read."""
        log.warning("sightings database: %s", str(problem).splitlines()[0])
        return error(503, NO_DATABASE)

    @api.errorhandler(OSError)
    def disk_refused(problem: OSError) -> tuple[Response, int]:
        log.warning("%s %s failed on disk: %s", request.method, request.path, problem)
        return storage_error(problem)

    @api.get("/token")
    def check_token() -> tuple[Response, int]:
        return reply(TokenCheck(ok=True))

    @api.get("/people")
    def list_people() -> tuple[Response, int]:
        return reply(PeopleList(people=[person_summary(person) for person in store.people()]))

    def enrol_each(name: str, photos: Iterable[tuple[str, Callable[[], bytes]]]) -> tuple[Response, int]:
        """Enrol each (file, its bytes) as a photo of ``name``: a report per file; those kept announced."""
        report = []
        try:
            for file, read in photos:
                try:
                    photo = off_loop(enrol_photo, settings, store, name, read())
                    report.append(
                        PhotoReport(
                            file=file,
                            kept=True,
                            photo_id=photo.photo_id,
                            warning=photo.warning or None,
                            already_enrolled=photo.already or None,
                        )
                    )
                except BadPhoto as problem:
                    report.append(PhotoReport(file=file, kept=False, reason=str(problem)))
        finally:  # a full disk ends the batch (507): the photos kept before it are still announced
            kept = sum(entry.kept for entry in report)
            if kept:
                announcer.changed(added_change({name: kept}))
        return reply(UploadReport(person=name, kept=kept, files=report), 201 if kept else 422)

    @api.post("/people/<name>/photos")
    def add_photos(name: str) -> tuple[Response, int]:
        name = clean_name(name)  # a bad name is refused before any file is read
        if request.is_json:  # "yes, that's Ana": a sighting's face crop becomes one of her photos
            try:
                sighting = PhotoFromSighting.model_validate(request.get_json(silent=True)).sighting
            except ValidationError:
                return error(400, HOW_PHOTOS)
            crop = faces_of_sightings.crop(sighting)
            return enrol_each(name, [(f"sighting {sighting}", lambda: crop)])
        uploads = request.files.getlist("photos")
        if not uploads:
            return error(400, HOW_PHOTOS)
        return enrol_each(name, [(upload.filename or "(unnamed)", upload.read) for upload in uploads])

    @api.get("/people/<name>/photos/<photo_id>")
    def get_photo(name: str, photo_id: str) -> Response:
        response = send_file(store.photo_path(name, photo_id), max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @api.delete("/people/<name>/photos/<photo_id>")
    def delete_photo(name: str, photo_id: str) -> tuple[Response, int]:
        store.remove_photo(name, photo_id)
        announcer.changed(f"removed photo {photo_id} of {name}")
        return reply(PhotoRemoved(removed=photo_id, person=name))

    @api.delete("/people/<name>")
    def delete_person(name: str) -> tuple[Response, int]:
        wanted = request.args.get("sightings", KEEP_SIGHTINGS)
        if wanted not in (KEEP_SIGHTINGS, DELETE_SIGHTINGS):
            choices = f"{DELETE_SIGHTINGS!r} or {KEEP_SIGHTINGS!r} (the default)"
            return error(400, f"sightings: {choices}, not {wanted[:20]!r}")
        name = store.person(name).name  # 404 before anything is deleted
        gone = None
        if wanted == DELETE_SIGHTINGS:  # first: a database that cannot be written leaves the person as they were
            try:
                gone = forget_sightings(name)
            except SQLAlchemyError as problem:
                log.warning("sightings database: %s", str(problem).splitlines()[0])
                return error(503, f"{NO_DATABASE} ({name} was not deleted)")
        store.remove_person(name)
        announcer.changed(f"removed {name}")
        return reply(gone or sightings_kept(name))

    def forget_sightings(name: str) -> PersonRemoved:
        """Delete the person's sightings the sightings service is done with; those still open stay, said so."""
        cutoff = settled_before(time.time(), settings.track_max_age_s)
        gone = removal.remove_named(faces_of_sightings.engine, name, faces_of_sightings.pictures, cutoff)
        log.info("%s: %d sightings and %d pictures deleted", name, gone.sightings, gone.pictures)
        said = f"{gone.sightings} sightings and {gone.pictures} pictures deleted"
        if gone.still_open:
            said += f"; {gone.still_open} still open kept (delete them on the Review page once they have closed)"
        return PersonRemoved(
            removed=name,
            sightings_deleted=gone.sightings,
            pictures_deleted=gone.pictures,
            sightings_kept=gone.still_open,
            sightings=said,
        )

    def sightings_kept(name: str) -> PersonRemoved:
        try:
            kept: int | None = removal.count_named(faces_of_sightings.engine, name)
        except SQLAlchemyError:
            kept = None
        said = f"kept (when and where they were seen); ?sightings={DELETE_SIGHTINGS} deletes them"
        return PersonRemoved(removed=name, sightings_kept=kept, sightings=said)

    @api.patch("/people/<name>")
    def rename_person(name: str) -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return error(400, 'send JSON {"name": "New name"}')
        wanted = RenameRequest(name=body["name"])
        new_name = store.rename(name, wanted.name)
        if new_name != clean_name(name):
            announcer.changed(f"renamed {name} to {new_name}")
        return reply(person_summary(store.person(new_name)))

    @api.post("/recognize")
    def recognize() -> tuple[Response, int]:
        upload = request.files.get("image")
        if upload is None:
            return error(400, "send the image as multipart/form-data, field 'image'")
        try:  # decoding is CPU work: off the event loop, like the face search
            rgb, _ = off_loop(read_image, upload.read(), settings.max_photo_megapixels)
        except TooLargePhoto as problem:
            return error(413, str(problem))
        except BadPhoto as problem:
            return error(400, str(problem))
        found = off_loop(recognizer.recognize, rgb)
        faces = [RecognizedFace.of(face) for face in found.faces]
        return reply(Recognition(width=found.width, height=found.height, faces=faces))

    @api.errorhandler(413)
    def too_large(_: HTTPException) -> tuple[Response, int]:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return error(413, f"the upload is larger than {limit / 1e6:.0f} MB")

    install_negative_routes(api, settings, store, announcer, faces_of_sightings)
    return api
