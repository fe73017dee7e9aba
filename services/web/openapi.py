"""The HTTP API described as OpenAPI 3.1, and a page that shows it without anything from the internet."""

from __future__ import annotations

from typing import Any

_ERROR = {"description": "What is wrong", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_AUTH = [{"bearer": []}]
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64},
         "description": "The person's name: letters (any script), digits, spaces, . ' - _"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def spec(version: str = "1") -> dict[str, Any]:
    """The OpenAPI document of every /api route."""
    face = {"type": "object", "properties": {
        "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                "description": "x, y, width, height as fractions (0..1) of the image"},
        "name": {"type": "string", "description": "The person, or 'Unknown'"},
        "distance": {"type": ["number", "null"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 100},
    }}
    multipart = lambda field, many: {"required": True, "content": {"multipart/form-data": {"schema": {  # noqa: E731
        "type": "object", "required": [field],
        "properties": {field: {"type": "array", "items": {"type": "string", "format": "binary"}} if many
                       else {"type": "string", "format": "binary"}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "facestream API", "version": version,
                 "description": "Live face recognition. Calls that change or export faces need the bearer token."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}}}, "Face": face},
        },
        "paths": {
            "/api/cameras": {"get": {"summary": "Every camera: source, fps, resolution, status",
                                     "responses": {"200": _json({"type": "object"}, "The cameras")}}},
            "/api/results/{camera}": {"get": {
                "summary": "The latest recognition result of a camera (the bus message's fields)",
                "parameters": [{"name": "camera", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object"}, "The result"), "404": _ERROR}}},
            "/api/token": {"get": {"summary": "Check a token: 200 if it is right, 401 if not", "security": _AUTH,
                                   "responses": {"200": _json({"type": "object"}, "The token is right"), "401": _ERROR}}},
            "/api/people": {"get": {"summary": "Known people: name, photo count, when added",
                                    "responses": {"200": _json({"type": "object"}, "The people")}}},
            "/api/people/{name}/photos": {"post": {
                "summary": ("Enrol photos of a person (made if new); each is checked and the answer says why any was not "
                            "kept. The size limit (MAX_UPLOAD_MB) is per request: send large sets in several requests."),
                "security": _AUTH, "parameters": [_NAME], "requestBody": multipart("photos", True),
                "responses": {"201": _json({"type": "object"}, "At least one photo kept; per-file report"),
                              "400": _ERROR, "401": _ERROR, "413": _ERROR,
                              "422": _json({"type": "object"}, "No photo kept; per-file reasons")}}},
            "/api/people/{name}/photos/{photo_id}": {
                "get": {"summary": "One enrolled photo", "security": _AUTH,
                        "parameters": [_NAME, {"name": "photo_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "The image"}, "401": _ERROR, "404": _ERROR}},
                "delete": {"summary": "Remove one photo", "security": _AUTH,
                           "parameters": [_NAME, {"name": "photo_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                           "responses": {"200": _json({"type": "object"}, "Removed"), "401": _ERROR, "404": _ERROR}}},
            "/api/people/{name}": {
                "delete": {"summary": "Forget a person and all their photos", "security": _AUTH, "parameters": [_NAME],
                           "responses": {"200": _json({"type": "object"}, "Removed"), "401": _ERROR, "404": _ERROR}},
                "patch": {"summary": "Rename a person", "security": _AUTH, "parameters": [_NAME],
                          "requestBody": {"required": True, "content": {"application/json": {"schema": {
                              "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
                          "responses": {"200": _json({"type": "object"}, "Renamed"), "400": _ERROR, "401": _ERROR,
                                        "404": _ERROR, "409": _ERROR}}},
            "/api/recognize": {"post": {
                "summary": "Every face of an uploaded image, named by the same matcher as the live stream",
                "security": _AUTH, "requestBody": multipart("image", False),
                "responses": {"200": _json({"type": "object", "properties": {
                    "width": {"type": "integer"}, "height": {"type": "integer"},
                    "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"}}}}, "The faces"),
                    "400": _ERROR, "401": _ERROR, "413": _ERROR}}},
        },
    }
