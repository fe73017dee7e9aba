"""The people CLI over HTTP (``--server URL``): the same commands, through a running web service's API.

Used when the faces folder lives on another machine, or to go through the
same door as every other client. Only the standard library: urllib and a
small multipart encoder, so the CLI adds no dependency. Photos are sent one
per request: the server's upload limit is per request, and the user sees
progress file by file.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from services.people.backends import CliError, FaceFound, FileReport, PersonSummary, Recognition, checked_name

TIMEOUT_S = 120.0
"""Enrolling a large photo on a slow CPU takes seconds; a dead server is told by the connection, not this."""


def multipart(field: str, files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with one part per file, and its Content-Type."""
    boundary = f"facestream-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for filename, data in files:
        safe_name = filename.replace('"', "'").replace("\r", " ").replace("\n", " ")
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class RemotePeople:
    """The CLI's operations as calls to the people API of a running web service."""

    def __init__(self, server: str, token: str | None) -> None:
        self.server = server.rstrip("/")
        if not self.server.startswith(("http://", "https://")):
            raise CliError(f"--server must be an http:// or https:// URL, got {server!r}")
        self.token = token

    def _call(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of one call; 401 and unreachable servers become CliError."""
        request = urllib.request.Request(self.server + path, data=body, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CliError(f"cannot reach {self.server}: {reason}") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {"error": raw[:200].decode("utf-8", "replace")}
        if status == 401:
            told = "the token was refused" if self.token else "no token given"
            raise CliError(
                f"{told} (401): pass --token-file, set API_TOKEN, or run where DATA_DIR/api-token is "
                f"(the server said: {answer.get('error', '')})"
            )
        return status, answer if isinstance(answer, dict) else {"error": str(answer)}

    @staticmethod
    def _person_path(name: str) -> str:
        return "/api/people/" + urllib.parse.quote(name, safe="")

    @staticmethod
    def _fail(status: int, answer: dict[str, Any]) -> CliError:
        return CliError(answer.get("error") or f"the server answered {status}")

    def check_name(self, raw: str) -> str:
        return checked_name(raw)  # the server checks again; this saves uploading for nothing

    def add_photo(self, name: str, label: str, data: bytes) -> FileReport:
        body, content_type = multipart("photos", [(Path(label).name or "photo", data)])
        status, answer = self._call("POST", self._person_path(name) + "/photos", body, content_type)
        if status in (201, 422) and answer.get("files"):
            entry = answer["files"][0]
            return FileReport(
                label, bool(entry.get("kept")), entry.get("photo_id"), entry.get("reason"), entry.get("warning")
            )
        if status == 413:
            return FileReport(label, kept=False, reason=answer.get("error") or "too large for the server")
        raise self._fail(status, answer)

    def finish(self, change: str) -> None:
        """Nothing to do: the server announced each change itself."""

    def people(self) -> list[PersonSummary]:
        status, answer = self._call("GET", "/api/people")
        if status != 200:
            raise self._fail(status, answer)
        return [PersonSummary(p["name"], int(p["photos"]), float(p["added"])) for p in answer.get("people", [])]

    def remove(self, name: str) -> None:
        status, answer = self._call("DELETE", self._person_path(checked_name(name)))
        if status != 200:
            raise self._fail(status, answer)

    def rename(self, name: str, new_name: str) -> str:
        body = json.dumps({"name": checked_name(new_name)}).encode()
        status, answer = self._call("PATCH", self._person_path(checked_name(name)), body, "application/json")
        if status != 200:
            raise self._fail(status, answer)
        return str(answer["name"])

    def recognize(self, data: bytes) -> Recognition:
        body, content_type = multipart("image", [("image", data)])
        status, answer = self._call("POST", "/api/recognize", body, content_type)
        if status != 200:
            raise self._fail(status, answer)
        return Recognition(
            int(answer["width"]),
            int(answer["height"]),
            [
                FaceFound(face["name"], float(face["confidence"]), face.get("distance"), tuple(face["box"]))
                for face in answer.get("faces", [])
            ],
        )
