"""The HTTP API described as OpenAPI 3.1, generated from a table of routes and the models the routes return.

Each body's schema is the JSON schema of the pydantic model the route builds
(services/web/api_models.py), so the document cannot drift from the answers.
tests/unit/test_openapi.py checks that the table names every /api route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from services.web.api_models import (
    CameraList,
    ErrorBody,
    LiveUpdate,
    Me,
    NamesSeen,
    NameVisitorRequest,
    NegativeAdded,
    NegativeList,
    NegativeRemoved,
    NegativeRequest,
    PasswordChange,
    PasswordChanged,
    PasswordReset,
    PeopleList,
    PersonRemoved,
    PersonSummary,
    PhotoFromSighting,
    PhotoRemoved,
    Recognition,
    RenameRequest,
    RoleChange,
    SightingItem,
    SightingPage,
    SightingRemoved,
    TokenCheck,
    TokenList,
    TokenMade,
    TokenRequest,
    TokenRevoked,
    UploadReport,
    UserInfo,
    UserList,
    UserRemoved,
    UserRequest,
    VisitorDetail,
    VisitorNamed,
    VisitorPage,
    VisitorRemoved,
)
from services.web.query import LARGEST_ID
from shared.bus.schema import Result

REF_TEMPLATE = "#/components/schemas/{model}"
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "The API token (an admin's rights)"},
    "login": {"type": "apiKey", "in": "cookie", "name": "facestream_session", "description": "A login from /login"},
}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"login": []}]
"""Every route needs one of them (services/web/auth.py); writes with the login cookie also an X-CSRFToken."""
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "name": {
        "schema": {"type": "string", "maxLength": 64},
        "description": "A person's name (letters, digits, spaces, . ' - _ of any script), a token's or an account's",
    },
    "photo_id": {"schema": {"type": "string"}, "description": "A photo's id, as listed in photo_ids"},
    "negative_id": {"schema": {"type": "string"}, "description": "A negative example's id, as GET .../not lists"},
    "camera": {"schema": {"type": "string"}, "description": "A camera's id, as listed by /api/cameras"},
    "sighting_id": {
        "schema": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID},
        "description": "A sighting's id",
    },
    "visitor_id": {"schema": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID}, "description": "A visitor's id"},
}
TIME = {"anyOf": [{"type": "number"}, {"type": "string", "format": "date-time"}]}
SIGHTING_FILTERS: tuple[dict[str, Any], ...] = (
    {"name": "camera", "schema": {"type": "string", "maxLength": 64}, "description": "Only this camera's"},
    {"name": "name", "schema": {"type": "string", "maxLength": 200}, "description": "Only this name's ('Unknown')"},
    {"name": "since", "schema": TIME, "description": "Seen at or after this time (Unix seconds or ISO 8601; UTC)"},
    {"name": "until", "schema": TIME, "description": "Begun at or before this time (Unix seconds or ISO 8601)"},
    {
        "name": "visitor",
        "schema": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID},
        "description": "Only this visitor's",
    },
    {"name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
    {"name": "cursor", "schema": {"type": "string"}, "description": "The next_cursor of the previous page"},
)
"""The query parameters of /api/sightings."""
VISITOR_FILTERS: tuple[dict[str, Any], ...] = (
    {
        "name": "named",
        "schema": {"type": "boolean"},
        "description": "true: only visitors named since; false: only those still strangers",
    },
    {"name": "since", "schema": TIME, "description": "Last seen at or after this time (Unix seconds or ISO 8601)"},
    {"name": "camera", "schema": {"type": "string", "maxLength": 64}, "description": "Only those seen on this camera"},
    SIGHTING_FILTERS[-2],
    SIGHTING_FILTERS[-1],
)
"""The query parameters of /api/visitors."""


@dataclass(frozen=True)
class Upload:
    """A multipart/form-data request body: one file field, or one repeated for several files."""

    field: str
    many: bool


@dataclass(frozen=True)
class EitherBody:
    """A request body that may come as a multipart/form-data upload or as a JSON model."""

    upload: Upload
    model: type[BaseModel]


@dataclass(frozen=True)
class Answer:
    """One documented response: a model sent as JSON, another media type (an image, a page), or a stream of
    events each carrying the model (OpenAPI 3.2's itemSchema)."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str | None = None
    media_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One route: what it does, whether it needs the token, what it takes and what it answers."""

    path: str
    method: str
    summary: str
    responses: dict[int, Answer]
    body: Upload | EitherBody | type[BaseModel] | None = None
    query: tuple[dict[str, Any], ...] = ()
    """Query parameters, as OpenAPI parameter objects without their "in"."""


WRONG = Answer("What is wrong", ErrorBody)
BINARY = {"type": "string", "format": "binary"}

OPERATIONS = [
    Operation(
        "/api/cameras", "get", "Every camera: source, fps, resolution, status", {200: Answer("The cameras", CameraList)}
    ),
    Operation(
        "/api/results/{camera}",
        "get",
        "The latest recognition result of a camera (the bus message's fields)",
        {200: Answer("The result", Result), 404: WRONG},
    ),
    Operation(
        "/api/events",
        "get",
        "Server-sent events for a live page: a `cameras` event twice a second with every camera's status and the "
        "faces in view (its data is one LiveUpdate); one connection instead of polling each camera",
        {
            200: Answer("The events, until the client leaves", LiveUpdate, media_type="text/event-stream"),
            401: WRONG,
            429: WRONG,
        },
    ),
    Operation(
        "/api/me",
        "get",
        "Who the credential sent (login or token) belongs to, and its role",
        {200: Answer("The account", Me), 401: WRONG},
    ),
    Operation(
        "/api/me/password",
        "post",
        "Change one's own password (a login: send the current one, and the page's X-CSRFToken)",
        {200: Answer("Changed", PasswordChanged), 400: WRONG, 401: WRONG, 403: WRONG},
        body=PasswordChange,
    ),
    Operation(
        "/api/tokens",
        "get",
        "Named API tokens (admins): names and scopes, never the tokens",
        {200: Answer("The tokens", TokenList), 401: WRONG, 403: WRONG},
    ),
    Operation(
        "/api/tokens",
        "post",
        "Make a named token with a scope (view: streams and reads, also as ?token= on a stream; write: also "
        "changes); the answer shows it this once",
        {201: Answer("The new token", TokenMade), 400: WRONG, 401: WRONG, 403: WRONG, 409: WRONG},
        body=TokenRequest,
    ),
    Operation(
        "/api/tokens/{name}",
        "delete",
        "Revoke a named token: it stops working at once",
        {200: Answer("Revoked", TokenRevoked), 401: WRONG, 403: WRONG, 404: WRONG},
    ),
    Operation(
        "/api/users",
        "get",
        "Accounts (admins): names, roles, when made; never passwords or their hashes",
        {200: Answer("The accounts", UserList), 401: WRONG, 403: WRONG},
    ),
    Operation(
        "/api/users",
        "post",
        "Make an account with a role and a password",
        {201: Answer("The new account", UserInfo), 400: WRONG, 401: WRONG, 403: WRONG, 409: WRONG},
        body=UserRequest,
    ),
    Operation(
        "/api/users/{name}/password",
        "put",
        "Give an account a new password (an admin resetting a forgotten one: the old one is not needed)",
        {200: Answer("Changed", PasswordChanged), 400: WRONG, 401: WRONG, 403: WRONG, 404: WRONG},
        body=PasswordReset,
    ),
    Operation(
        "/api/users/{name}/role",
        "put",
        "Give an account another role; the last admin cannot become a viewer (409)",
        {200: Answer("The account", UserInfo), 400: WRONG, 401: WRONG, 403: WRONG, 404: WRONG, 409: WRONG},
        body=RoleChange,
    ),
    Operation(
        "/api/users/{name}",
        "delete",
        "Delete an account; the last admin cannot be deleted (409)",
        {200: Answer("Deleted", UserRemoved), 400: WRONG, 401: WRONG, 403: WRONG, 404: WRONG, 409: WRONG},
    ),
    Operation(
        "/api/sightings",
        "get",
        "Who was seen, on which camera, when: one item per appearance of a tracked face, newest first; "
        "follow next_cursor for older ones",
        {200: Answer("A page of sightings", SightingPage), 400: WRONG, 401: WRONG, 503: WRONG},
        query=SIGHTING_FILTERS,
    ),
    Operation(
        "/api/sightings/{sighting_id}",
        "get",
        "One sighting",
        {200: Answer("The sighting", SightingItem), 401: WRONG, 404: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/sightings/{sighting_id}",
        "delete",
        "Delete a sighting (admins): its row, its face crop and snapshot; its visitor's figures are recounted (a "
        "visitor whose last sighting it was goes too). A sighting still in view, or closed less than about 25 s "
        "ago, is a 409: the sightings service may still write to it",
        {200: Answer("Deleted", SightingRemoved), 401: WRONG, 403: WRONG, 404: WRONG, 409: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/sightings/names",
        "get",
        "When and where each person was seen: first and last seen, how many sightings, on which cameras, over the "
        "sightings still kept; last seen first (strangers are under /api/visitors)",
        {200: Answer("Each person seen", NamesSeen), 401: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/sightings/{sighting_id}/face.jpg",
        "get",
        "A sighting's best face crop (admins: a face is biometric data)",
        {200: Answer("The crop", media_type="image/jpeg", media_schema=BINARY), 401: WRONG, 403: WRONG, 404: WRONG},
    ),
    Operation(
        "/api/sightings/{sighting_id}/snapshot.jpg",
        "get",
        "The whole frame the best face crop was cut from (admins)",
        {200: Answer("The frame", media_type="image/jpeg", media_schema=BINARY), 401: WRONG, 403: WRONG, 404: WRONG},
    ),
    Operation(
        "/api/visitors",
        "get",
        "Visitors: strangers recognised across sightings (the same unenrolled face on any camera, any day), last "
        "seen first; follow next_cursor for older ones",
        {200: Answer("A page of visitors", VisitorPage), 400: WRONG, 401: WRONG, 503: WRONG},
        query=VISITOR_FILTERS,
    ),
    Operation(
        "/api/visitors/{visitor_id}",
        "get",
        "One visitor, with the sightings whose face crops show them best",
        {200: Answer("The visitor", VisitorDetail), 401: WRONG, 404: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/visitors/{visitor_id}",
        "delete",
        "Forget a visitor (admins): their encodings, and the pictures of their sightings still Unknown, are deleted; "
        "the sightings stay (when and where) without a visitor, and a new sighting of that face becomes a new visitor",
        {200: Answer("Forgotten", VisitorRemoved), 401: WRONG, 403: WRONG, 404: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/visitors/{visitor_id}/face.jpg",
        "get",
        "A visitor's most typical face crop (admins: a face is biometric data)",
        {200: Answer("The crop", media_type="image/jpeg", media_schema=BINARY), 401: WRONG, 403: WRONG, 404: WRONG},
    ),
    Operation(
        "/api/visitors/{visitor_id}/name",
        "post",
        "Name a visitor (admins): their most typical face crops (up to 5) are enrolled as the person's photos (the "
        "person is made if new; the live view names them once the workers reload, within a second), and their "
        "sightings that said Unknown are renamed; naming them again the same is harmless, another name is a 409",
        {
            200: Answer("Named; what each crop became", VisitorNamed),
            400: WRONG,
            401: WRONG,
            403: WRONG,
            404: WRONG,
            409: WRONG,
            503: WRONG,
            507: WRONG,
        },
        body=NameVisitorRequest,
    ),
    Operation(
        "/api/token",
        "get",
        "Check a token: 200 if it is right, 401 if not",
        {200: Answer("The token is right", TokenCheck), 401: WRONG},
    ),
    Operation(
        "/api/people", "get", "Known people: name, photo count, when added", {200: Answer("The people", PeopleList)}
    ),
    Operation(
        "/api/people/{name}/photos",
        "post",
        "Enrol photos of a person (made if new); each is checked and the answer says why any was not kept. "
        "The size limit (MAX_UPLOAD_MB) is per request: send large sets in several requests. Or send JSON "
        '{"sighting": id} to enrol that sighting\'s face crop ("yes, that\'s them"; admins)',
        {
            201: Answer("At least one photo kept; per-file report", UploadReport),
            400: WRONG,
            401: WRONG,
            404: Answer("JSON: no such sighting, or no face crop of it is kept", ErrorBody),
            409: WRONG,
            413: WRONG,
            422: Answer(
                "No photo kept; per-file reasons (a photo over MAX_PHOTO_MEGAPIXELS, truncated, ...)", UploadReport
            ),
            503: WRONG,
            507: WRONG,
        },
        body=EitherBody(Upload("photos", many=True), PhotoFromSighting),
    ),
    Operation(
        "/api/people/{name}/photos/{photo_id}",
        "get",
        "One enrolled photo",
        {200: Answer("The image", media_type="image/*", media_schema=BINARY), 400: WRONG, 401: WRONG, 404: WRONG},
    ),
    Operation(
        "/api/people/{name}/photos/{photo_id}",
        "delete",
        "Remove one photo and its cached encoding",
        {200: Answer("Removed", PhotoRemoved), 400: WRONG, 401: WRONG, 404: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/people/{name}",
        "delete",
        "Forget a person: their photos and their cached encodings. Their sightings stay (when and where they were "
        "seen, under their name) unless ?sightings=delete: then every one of them is deleted first, rows, face crops "
        "and snapshots, except those still open (in view, or left less than half a minute ago: the sightings service "
        "still writes to them), which are kept and counted in sightings_kept",
        {200: Answer("Removed", PersonRemoved), 400: WRONG, 401: WRONG, 404: WRONG, 503: WRONG, 507: WRONG},
        query=(
            {
                "name": "sightings",
                "schema": {"type": "string", "enum": ["keep", "delete"], "default": "keep"},
                "description": "delete: also delete the person's sightings and their pictures",
            },
        ),
    ),
    Operation(
        "/api/people/{name}",
        "patch",
        "Rename a person",
        {200: Answer("Renamed", PersonSummary), 400: WRONG, 401: WRONG, 404: WRONG, 409: WRONG, 503: WRONG},
        body=RenameRequest,
    ),
    Operation(
        "/api/people/{name}/not",
        "post",
        'Correct a mistake: "this face is not {name}" (admins). Send an image of one face, or a sighting\'s id to '
        "use its best face crop. From then on a face nearer this one than {name}'s photos is Unknown, on every "
        "worker within a second (docs/accuracy.md says how it was measured)",
        {
            201: Answer("Kept", NegativeAdded),
            200: Answer("This very face was marked before; kept once", NegativeAdded),
            400: WRONG,
            401: WRONG,
            403: WRONG,
            404: Answer("No such person, sighting, or crop of the sighting", ErrorBody),
            409: Answer("The image is one of the person's own enrolled photos", ErrorBody),
            413: WRONG,
            422: Answer("Not an image, no face, or several faces in an upload", ErrorBody),
            503: WRONG,
            507: WRONG,
        },
        body=EitherBody(Upload("image", many=False), NegativeRequest),
    ),
    Operation(
        "/api/people/{name}/not",
        "get",
        "The faces marked as not this person (admins): ids and when",
        {200: Answer("The negative examples", NegativeList), 400: WRONG, 401: WRONG, 403: WRONG, 404: WRONG},
    ),
    Operation(
        "/api/people/{name}/not/{negative_id}",
        "delete",
        "Forget one face marked as not this person (faces like it may be named as them again) and its cached encoding",
        {200: Answer("Removed", NegativeRemoved), 400: WRONG, 401: WRONG, 403: WRONG, 404: WRONG, 503: WRONG},
    ),
    Operation(
        "/api/recognize",
        "post",
        "Every face of an uploaded image, named by the same matcher as the live stream",
        {200: Answer("The faces", Recognition), 400: WRONG, 401: WRONG, 413: WRONG},
        body=Upload("image", many=False),
    ),
    Operation(
        "/api/openapi.json",
        "get",
        "This document (OpenAPI 3.1)",
        {200: Answer("The document", media_type="application/json", media_schema={"type": "object"})},
    ),
    Operation(
        "/api/docs",
        "get",
        "This document as a web page",
        {200: Answer("The page", media_type="text/html", media_schema={"type": "string"})},
    ),
]


def _schemas(operations: list[Operation]) -> tuple[dict[Any, Any], dict[str, Any]]:
    """Each model's $ref, and every model's JSON schema keyed by name (answers as sent, bodies as accepted)."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for operation in operations:
        if isinstance(operation.body, type):
            wanted[(operation.body, "validation")] = None
        if isinstance(operation.body, EitherBody):
            wanted[(operation.body.model, "validation")] = None
        for answer in operation.responses.values():
            if answer.model is not None:
                wanted[(answer.model, "serialization")] = None
    refs, definitions = models_json_schema(list(wanted), ref_template=REF_TEMPLATE)
    return refs, definitions.get("$defs", {})


def _parameters(path: str, query: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    in_path = [
        {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]} for name in re.findall(r"{(\w+)}", path)
    ]
    return in_path + [{"in": "query", "required": False, **parameter} for parameter in query]


def _request_body(body: Upload | EitherBody | type[BaseModel], refs: dict[Any, Any]) -> dict[str, Any]:
    if isinstance(body, EitherBody):
        upload, model = _request_body(body.upload, refs), _request_body(body.model, refs)
        return {"required": True, "content": {**upload["content"], **model["content"]}}
    if isinstance(body, Upload):
        file_schema = {"type": "array", "items": BINARY} if body.many else BINARY
        schema = {"type": "object", "required": [body.field], "properties": {body.field: file_schema}}
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    return {"required": True, "content": {"application/json": {"schema": refs[(body, "validation")]}}}


def _response(answer: Answer, refs: dict[Any, Any]) -> dict[str, Any]:
    if answer.model is not None and answer.media_type is not None:  # a stream of events, each the model's JSON
        event = {  # OpenAPI 3.2's shape of one server-sent event: its name, and its data as JSON of the model
            "type": "object",
            "required": ["data"],
            "properties": {
                "event": {"type": "string"},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": refs[(answer.model, "serialization")],
                },
                "retry": {"type": "integer", "minimum": 0},
            },
        }
        return {
            "description": answer.description,
            "content": {answer.media_type: {"schema": {"type": "string"}, "itemSchema": event}},
        }
    if answer.model is not None:
        return {
            "description": answer.description,
            "content": {"application/json": {"schema": refs[(answer.model, "serialization")]}},
        }
    if answer.media_type is not None:
        return {"description": answer.description, "content": {answer.media_type: {"schema": answer.media_schema}}}
    return {"description": answer.description}


def _operation(operation: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": operation.summary}
    if parameters := _parameters(operation.path, operation.query):
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = _request_body(operation.body, refs)
    described["responses"] = {str(status): _response(answer, refs) for status, answer in operation.responses.items()}
    return described


def spec(version: str = "1") -> dict[str, Any]:
    """The OpenAPI document of every /api route."""
    refs, schemas = _schemas(OPERATIONS)
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "facestream API",
            "version": version,
            "description": (
                "Live face recognition. Every call needs a login or the API token; changes need an admin. "
                "A browser or program hosts a camera over the WebSocket /ws/publish/{camera} (a writer's credential): "
                'each binary message one JPEG frame; the server answers {"ack": frame_id} and pushes '
                '{"type": "result", ...} (the Result schema) and {"type": "status", ...}; see the README\'s Go live.'
            ),
        },
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": schemas},
        "security": SECURITY,
        "paths": paths,
    }
