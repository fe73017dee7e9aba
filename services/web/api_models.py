"""Every JSON body the /api routes send or accept, as pydantic models, and the one way they are sent.

The routes build these models and answer with :func:`reply`, and the OpenAPI
document (services/web/openapi.py) is generated from the same models, so what
is documented is what is returned. Latest results are the bus's own
:class:`shared.bus.schema.Result`, sent as they are.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Response, jsonify
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from shared.accounts import MIN_PASSWORD_LENGTH, NAME_PATTERN
from shared.boxes import NormBox
from shared.bus import schema


def _drop_default(field_schema: dict[str, Any]) -> None:
    field_schema.pop("default", None)


def _is_none(value: object) -> bool:
    return value is None


def left_out_when_none(description: str) -> Any:
    """A field missing from the JSON when it has no value (not sent as null), and documented that way."""
    return Field(None, description=description, exclude_if=_is_none, json_schema_extra=_drop_default)


class ApiModel(BaseModel):
    """Base of the API's own bodies: a field the model does not name is an error, so a body cannot outgrow its docs."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def reply(body: BaseModel, status: int = 200) -> tuple[Response, int]:
    """Answer with a model as JSON: the only way a route sends a body, so it always fits its documented model."""
    return jsonify(body.model_dump(mode="json")), status


class ErrorBody(ApiModel):
    """What went wrong, in words a client can show as they are."""

    error: str = Field(description="What is wrong")


class CameraSummary(ApiModel):
    """One camera as /api/cameras describes it."""

    id: str = Field(description="The camera's name (as in SOURCE name=uri)")
    source: str = Field(description="What the camera reads: a device index, a file or a URL")
    fps: float = Field(description="Frames per second received (0 when there is no signal)")
    resolution: tuple[int, int] | None = Field(description="Width and height in pixels; null before the first frame")
    status: Literal["live", "no_signal", "offline"] = Field(
        description="Whether frames are arriving; 'offline' for a browser's camera whose host left"
    )
    message: str = Field(description="Why there is no signal; empty when live")
    last_frame_time: float | None = Field(description="Capture time of the newest frame, Unix seconds")
    viewers: int = Field(ge=0, description="Streams of this camera being watched now")
    hosted: bool = Field(description="A browser's webcam (Go live), not a camera of the server")


class CameraLive(CameraSummary):
    """One camera as the events channel describes it: its summary and who is in view."""

    faces: list[schema.Face] = Field(description="The faces drawn on the newest frame (the boxes a viewer sees)")
    result_time: float | None = Field(description="Capture time of the frame the newest result is for, Unix seconds")


class LiveUpdate(ApiModel):
    """The data of each ``cameras`` event of /api/events."""

    cameras: list[CameraLive] = Field(description="Every camera, its status and the faces in view")
    known_people: int = Field(ge=0, description="People enrolled: with none, every face is Unknown")
    time: float = Field(description="When this was said, Unix seconds")


class CameraList(ApiModel):
    """Every camera, and what to do when there is none."""

    cameras: list[CameraSummary] = Field(description="Every camera: source, fps, resolution, status")
    hint: str | None = Field(description="How to add a camera; null when there is one")


class Me(ApiModel):
    """Who the credential sent belongs to, and what it may do."""

    name: str = Field(description="The account's name; 'api-token' for the API token; 'anyone' with AUTH=off")
    role: Literal["admin", "viewer"] = Field(description="admin: everything; viewer: watch and read")


class PasswordChange(ApiModel):
    """The body that changes one's own password."""

    current: str = Field(min_length=1, max_length=1024, description="The password now")
    new: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=1024,
        description=f"The new password (at least {MIN_PASSWORD_LENGTH} characters)",
    )


class PasswordChanged(ApiModel):
    """A password that was changed."""

    changed: str = Field(description="The account whose password changed")


class UserInfo(ApiModel):
    """An account as listed: never its password or its hash."""

    name: str = Field(description="The account's name")
    role: Literal["admin", "viewer"] = Field(description="admin: everything; viewer: watch and read")
    created: float = Field(description="When it was made, Unix seconds")


class UserList(ApiModel):
    """Every account."""

    users: list[UserInfo] = Field(description="The accounts, by name")


class UserRequest(ApiModel):
    """The body that makes an account."""

    name: str = Field(pattern=NAME_PATTERN, description="1-32 lower-case letters, digits, '.', '_' or '-'")
    role: Literal["admin", "viewer"] = Field(description="admin: everything; viewer: watch and read")
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH, max_length=1024, description="Its password (at least 10 characters)"
    )


class PasswordReset(ApiModel):
    """The body with which an admin gives an account a new password (the old one is not needed)."""

    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH, max_length=1024, description="The new password (at least 10 characters)"
    )


class RoleChange(ApiModel):
    """The body that gives an account another role."""

    role: Literal["admin", "viewer"] = Field(description="The new role; the last admin stays an admin")


class UserRemoved(ApiModel):
    """An account that was deleted."""

    removed: str = Field(description="The deleted account's name")


class TokenRequest(ApiModel):
    """The body that makes a named token."""

    name: str = Field(
        pattern=NAME_PATTERN, description="What the token is for: 1-32 lower-case letters, digits, '.', '_' or '-'"
    )
    scope: Literal["view", "write"] = Field(description="view: streams and reads; write: also changes people")


class TokenInfo(ApiModel):
    """A named token as listed: never the token itself."""

    name: str = Field(description="Its name")
    scope: Literal["view", "write"] = Field(description="What it may do")
    created: float = Field(description="When it was made, Unix seconds")


class TokenList(ApiModel):
    """Every named token."""

    tokens: list[TokenInfo] = Field(description="The named tokens, by name")


class TokenMade(ApiModel):
    """A new token: shown this once."""

    name: str = Field(description="Its name")
    scope: Literal["view", "write"] = Field(description="What it may do")
    token: str = Field(description="The token: send it as 'Authorization: Bearer', or ?token= on a stream URL")


class TokenRevoked(ApiModel):
    """A token that no longer works."""

    revoked: str = Field(description="The revoked token's name")


class TokenCheck(ApiModel):
    """The answer to a right token."""

    ok: Literal[True] = Field(description="Always true: a wrong token gets 401")


class PersonSummary(ApiModel):
    """One known person."""

    name: str = Field(description="The person's name")
    photos: int = Field(ge=0, description="How many photos are enrolled")
    added: float = Field(description="When the first photo was added, Unix seconds")
    photo_ids: list[str] = Field(description="The photos' ids, for /api/people/{name}/photos/{photo_id}")
    negatives: int = Field(ge=0, description="How many faces are marked as not this person (/api/people/{name}/not)")


class PeopleList(ApiModel):
    """Every known person."""

    people: list[PersonSummary] = Field(description="Known people: name, photo count, when added")


class PhotoReport(ApiModel):
    """What became of one uploaded file."""

    file: str = Field(description="The file's name as sent")
    kept: bool = Field(description="Whether the photo was enrolled")
    photo_id: str | SkipJsonSchema[None] = left_out_when_none("The enrolled photo's id; only when kept")
    warning: str | SkipJsonSchema[None] = left_out_when_none(
        "Something the sender should know about a kept photo (e.g. only the largest face was kept); only if any"
    )
    reason: str | SkipJsonSchema[None] = left_out_when_none("Why the photo was not kept; only when not kept")
    already_enrolled: bool | SkipJsonSchema[None] = left_out_when_none(
        "True when this very photo was enrolled for the person before (it is kept once); only then"
    )


class UploadReport(ApiModel):
    """The per-file report of an upload."""

    person: str = Field(description="The person's name, as cleaned")
    kept: int = Field(ge=0, description="How many photos were enrolled")
    files: list[PhotoReport] = Field(description="One entry per uploaded file, in order")


class NegativeRequest(ApiModel):
    """Which sighting's face is not the person."""

    sighting: int = Field(ge=1, strict=True, description="A sighting's id: its best face crop is used")


class NegativeInfo(ApiModel):
    """One face marked as not the person."""

    id: str = Field(description="Its id, for DELETE /api/people/{name}/not/{negative_id}")
    added: float = Field(description="When it was marked, Unix seconds")


class NegativeList(ApiModel):
    """The faces marked as not a person."""

    person: str = Field(description="The person's name")
    count: int = Field(ge=0, description="How many")
    negatives: list[NegativeInfo] = Field(description="Each one's id and when it was marked")


class NegativeAdded(ApiModel):
    """A face now kept as not the person: the matcher stops naming them for faces like it."""

    person: str = Field(description="The person's name, as cleaned")
    id: str = Field(description="The negative example's id")
    added: float = Field(description="When it was marked, Unix seconds")
    already: bool = Field(description="True when this very face was marked before (it is kept once; answered 200)")
    sighting: int | SkipJsonSchema[None] = left_out_when_none("The sighting whose face it is; only if one was sent")
    warning: str | SkipJsonSchema[None] = left_out_when_none(
        "Something the sender should know (several faces in the sighting's crop: the largest was kept); only if any"
    )


class NegativeRemoved(ApiModel):
    """A negative example that was removed: faces like it may be named as the person again."""

    removed: str = Field(description="The negative example's id")
    person: str = Field(description="The person's name")


class PhotoRemoved(ApiModel):
    """A photo that was removed."""

    removed: str = Field(description="The removed photo's id")
    person: str = Field(description="Whose photo it was")


class PersonRemoved(ApiModel):
    """A person who was forgotten, and what became of their sightings."""

    removed: str = Field(description="The forgotten person's name")
    sightings_deleted: int = Field(
        0, description="Their sightings deleted, rows and pictures (only with ?sightings=delete)"
    )
    pictures_deleted: int = Field(0, description="The face crops and snapshots deleted with them")
    sightings_kept: int | None = Field(
        description="Their sightings still kept under the name: all of them without ?sightings=delete; with it, "
        "those still open (in view, or left less than half a minute ago), which the sightings service may still "
        "write to. None when the sightings database could not be read"
    )
    sightings: str = Field(description="What became of their sightings, in words")


class RenameRequest(ApiModel):
    """The body of a rename."""

    name: str = Field(description="The new name")


class RecognizedFace(ApiModel):
    """One face of an uploaded image: the bus's Face without the tracking fields a still image has no use for."""

    box: NormBox = Field(description="x, y, width, height as fractions (0..1) of the image")
    name: str = Field(description="The person, or 'Unknown'")
    distance: float | None = Field(
        description="Smallest distance to the photos of the nearest person; null when nobody is enrolled"
    )
    confidence: float = Field(ge=0.0, le=100.0, description="How likely the name (or 'Unknown') is right, in %")

    @classmethod
    def of(cls, face: schema.Face) -> RecognizedFace:
        """The fields of a bus Face that a still image has."""
        return cls.model_validate(face.model_dump(include=set(cls.model_fields)))


class Recognition(ApiModel):
    """Every face of an uploaded image, with the image's size."""

    width: int = Field(gt=0, description="The image's width in pixels")
    height: int = Field(gt=0, description="The image's height in pixels")
    faces: list[RecognizedFace] = Field(description="Every face found, named")


class SightingItem(ApiModel):
    """One appearance of a tracked face on a camera, as the sightings service keeps it."""

    id: int = Field(description="The sighting's id (/api/sightings/{sighting_id})")
    camera: str = Field(description="The camera it was seen on")
    name: str = Field(description="The name the track had most confidence in, or 'Unknown'")
    visitor: int | None = Field(
        description=(
            "The stranger an Unknown sighting was recognised as (/api/visitors/{visitor_id}): the same id for the same "
            "unenrolled face on every camera and day; null for someone known, or before it is decided (a few "
            "seconds after the sighting appears), or when no face of it could be encoded"
        )
    )
    start: float = Field(description="Capture time of the first frame it was on, Unix seconds")
    end: float = Field(description="Capture time of the last frame it was on (so far, while it is in view)")
    confidence: float = Field(description="The best confidence (%) of that name")
    frames: int = Field(description="Analysed frames it was on")


class SightingPage(ApiModel):
    """A page of sightings, newest first."""

    items: list[SightingItem] = Field(description="Newest first (by start, then id)")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class VisitorItem(ApiModel):
    """A stranger recognised across sightings (or, once named, the person they turned out to be)."""

    id: int = Field(description="The visitor's id (/api/visitors/{visitor_id}; ?visitor= of /api/sightings)")
    name: str | None = Field(description="The person they were named as (POST .../name); null while a stranger")
    first_seen: float = Field(description="Start of their first sighting still kept, Unix seconds")
    last_seen: float = Field(description="End of their latest sighting (so far, while one is in view)")
    sightings: int = Field(description="Their sightings still kept (RETAIN_DAYS)")
    cameras: list[str] = Field(description="The cameras those sightings were on, by name")


class VisitorPage(ApiModel):
    """A page of visitors, last seen first."""

    items: list[VisitorItem] = Field(description="Latest seen first (by last seen, then id)")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class VisitorDetail(VisitorItem):
    """One visitor, with the sightings whose face crops show them best."""

    faces: list[int] = Field(
        description=(
            "Ids of their sightings with a face crop (/api/sightings/{sighting_id}/face.jpg), the most typical of "
            "them first: the crops naming them would enrol (at most 5); empty when none is kept "
            "(STORE_UNKNOWN_IMAGES=false, or RETAIN_UNKNOWN_DAYS passed)"
        )
    )


class NameVisitorRequest(ApiModel):
    """Who a visitor is."""

    name: str = Field(description="The person's name (as for /api/people/{name}); made if new")


class VisitorNamed(ApiModel):
    """What naming a visitor did."""

    visitor: VisitorDetail = Field(description="The visitor, named")
    enrolled: int = Field(description="Face crops enrolled as the person's photos (0 when none was kept)")
    files: list[PhotoReport] = Field(description="Each crop tried, as 'sighting <id>', and what became of it")
    renamed: int = Field(description="Their sightings that said 'Unknown' and now say the name")
    warning: str | SkipJsonSchema[None] = left_out_when_none(
        "Why the live view may still not name them: no crop could be enrolled; only then"
    )


class VisitorRemoved(ApiModel):
    """What forgetting a visitor did."""

    removed: int = Field(description="The visitor's id: no longer listed, and no new sighting will be given it")
    sightings: int = Field(description="Their sightings, kept (when and where) without a visitor or encodings")
    pictures: int = Field(description="Face crops and snapshots of those still Unknown, deleted")


class SightingRemoved(ApiModel):
    """What deleting a sighting did."""

    removed: int = Field(description="The sighting's id: no longer listed")
    pictures: int = Field(description="Its face crop and snapshot, deleted (0 when none was kept)")
    visitor: int | None = Field(
        description="The visitor it belonged to (their figures recounted; gone with their last)"
    )


class NameSeenItem(ApiModel):
    """When and where one person was seen."""

    name: str = Field(description="The person, as their sightings name them")
    first_seen: float = Field(description="Start of their first sighting still kept, Unix seconds")
    last_seen: float = Field(description="End of their latest sighting")
    sightings: int = Field(description="Their sightings still kept")
    cameras: list[str] = Field(description="The cameras those were on")


class NamesSeen(ApiModel):
    """Every person with a kept sighting, last seen first."""

    names: list[NameSeenItem]


class PhotoFromSighting(ApiModel):
    """Which sighting's face is a photo of the person."""

    sighting: int = Field(ge=1, strict=True, description="A sighting's id: its best face crop is enrolled")
