"""What the people CLI does, on the faces folder itself: the "local" side of ``python -m services.people``.

The CLI works the same whether it writes to FACES_DIR here or talks to a
running web service (``cli_client.RemotePeople``); both sides answer with the
small records below, so the command code and its output never care which.

Locally every photo goes through the same enrolment as an upload to the API
(``shared.people.enrol.enrol_photo``), then the change is announced on the bus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from shared.bus.announce import PeopleAnnouncer
from shared.config import Settings
from shared.faces import facelib
from shared.faces.recognizer import Recognizer  # the same detector, encoder and matcher as the workers
from shared.people.enrol import enrol_photo
from shared.people.names import BadName, clean_name
from shared.people.photos import BadPhoto, read_image
from shared.people.store import Conflict, NotFound, PeopleStore


class CliError(Exception):
    """A problem the user must fix (bad name, unknown person, refused token...): printed as is, exit code 2."""


@dataclass
class FileReport:
    """What became of one file: kept (with its photo id) or skipped (with the reason)."""

    file: str
    kept: bool
    photo_id: str | None = None
    reason: str | None = None
    warning: str | None = None


@dataclass(frozen=True)
class PersonSummary:
    """One known person as ``list`` shows them."""

    name: str
    photos: int
    added: float


@dataclass(frozen=True)
class FaceFound:
    """One face of a recognised image; box is x, y, w, h as fractions of the image."""

    name: str
    confidence: float
    distance: float | None
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Recognition:
    """Every face of an image, with the image's size in pixels."""

    width: int
    height: int
    faces: list[FaceFound] = field(default_factory=list)


class People(Protocol):
    """The operations every CLI command is built from; local and remote implement them alike."""

    def check_name(self, raw: str) -> str:
        """The name as it will be stored, or CliError with the validation message."""

    def add_photo(self, name: str, label: str, data: bytes) -> FileReport:
        """Check and enrol one photo; a photo that cannot be used is a skipped report, not an error."""

    def finish(self, change: str) -> None:
        """Called once after a batch of changes (to announce them)."""

    def people(self) -> list[PersonSummary]:
        """Everyone known."""

    def remove(self, name: str) -> None:
        """Forget a person."""

    def rename(self, name: str, new_name: str) -> str:
        """Rename a person; the stored new name."""

    def recognize(self, data: bytes) -> Recognition:
        """Name every face of an image."""


def checked_name(raw: str) -> str:
    """``clean_name``, with its message as a CliError so the CLI prints it and exits 2."""
    try:
        return clean_name(raw)
    except BadName as problem:
        raise CliError(f"bad name {raw!r}: {problem}") from None


class LocalPeople:
    """The CLI's operations straight on FACES_DIR, with the encoding cache in DATA_DIR."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = PeopleStore(settings.faces_dir, settings.data_dir)
        self._announcer: PeopleAnnouncer | None = None

    def _bus(self) -> PeopleAnnouncer:
        """The announcer, connected on first need: a change is coming, so its subscriptions can arrive meanwhile."""
        if self._announcer is None:
            self._announcer = PeopleAnnouncer(self.settings)
        return self._announcer

    def _face_library(self) -> None:
        try:
            facelib.load()
        except facelib.FaceLibraryError as problem:
            raise CliError(str(problem)) from None

    def check_name(self, raw: str) -> str:
        name = checked_name(raw)
        self._bus()
        return name

    def add_photo(self, name: str, label: str, data: bytes) -> FileReport:
        self._face_library()
        try:
            photo = enrol_photo(self.settings, self.store, name, data)
        except BadPhoto as problem:
            return FileReport(label, kept=False, reason=str(problem))
        except Conflict as problem:
            raise CliError(str(problem)) from None
        except OSError as problem:  # a full or read-only faces folder: no partial file is left
            raise CliError(
                f"cannot store {label} in {self.settings.faces_dir}: {problem.strerror or problem}"
            ) from None
        return FileReport(label, kept=True, photo_id=photo.photo_id, warning=photo.warning)

    def finish(self, change: str) -> None:
        bus = self._bus()
        bus.changed(change)
        bus.close()
        self._announcer = None

    def people(self) -> list[PersonSummary]:
        return [PersonSummary(p.name, len(p.photos), p.added) for p in self.store.people()]

    def remove(self, name: str) -> None:
        name = self.check_name(name)
        try:
            self.store.remove_person(name)
        except NotFound as problem:
            raise CliError(str(problem)) from None
        except OSError as problem:
            raise CliError(f"cannot remove {name}: {problem.strerror or problem}") from None
        self.finish(f"removed {name}")

    def rename(self, name: str, new_name: str) -> str:
        old, new = self.check_name(name), checked_name(new_name)
        try:
            stored = self.store.rename(old, new)
        except (NotFound, Conflict) as problem:
            raise CliError(str(problem)) from None
        except OSError as problem:
            raise CliError(f"cannot rename {old}: {problem.strerror or problem}") from None
        self.finish(f"renamed {old} to {stored}")
        return stored

    def recognize(self, data: bytes) -> Recognition:
        self._face_library()
        try:
            rgb, _ = read_image(data, self.settings.max_photo_megapixels)
        except BadPhoto as problem:
            raise CliError(str(problem)) from None
        found = Recognizer(self.settings).recognize(rgb)
        return Recognition(
            found.width,
            found.height,
            [FaceFound(face.name, face.confidence, face.distance, face.box) for face in found.faces],
        )


def read_file(path: Path) -> bytes:
    """A file's bytes, or CliError naming it."""
    try:
        return path.read_bytes()
    except OSError as problem:
        raise CliError(f"cannot read {path}: {problem.strerror or problem}") from None
