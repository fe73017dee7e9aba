"""The known people as folders of photos under FACES_DIR: list, add, remove, rename, atomically.

The folder stays the single source of truth: a user may still drop photos in
by hand, and the workers read nothing else. Every change is made so a reader
never sees half of it: a photo is written to a hidden temporary file and
renamed into place; a person is deleted by renaming their folder to a hidden
name first; a rename is one ``os.rename``. Forgetting a person or a photo
removes exactly its files and, with a DATA_DIR, its cached encodings; a
failed write (a full or read-only disk) leaves no partial file behind.

A person's negative examples (faces that are not them) are kept the same way
in their folder's ``.not/`` (shared/people/layout.py), so a rename or a
delete carries them, and a person whose last photo goes takes them along.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

from shared.faces.encoding_cache import content_digest, forgetting
from shared.people.layout import PHOTO_SUFFIXES, negative_files, negatives_folder, person_photos
from shared.people.names import clean_name, clean_photo_id


class NotFound(LookupError):
    """No such person or photo."""


class Conflict(ValueError):
    """The change would clash with what exists (a rename onto an existing person)."""


@dataclass(frozen=True)
class PhotoInfo:
    """One enrolled photo: its id (the file name) and when it was added."""

    id: str
    added: float
    new: bool = True
    """False when this very photo was stored for the person already (it is kept once)."""


@dataclass(frozen=True)
class PersonInfo:
    """One known person, their photos, and how many faces are marked as not them."""

    name: str
    photos: list[PhotoInfo]
    negatives: int = 0

    @property
    def added(self) -> float:
        """When the person's first photo arrived."""
        return min((photo.added for photo in self.photos), default=0.0)


class PeopleStore:
    """Changes to the faces folder, one at a time (a lock), each atomic on disk.

    With ``data_dir``, removing photos also removes their encodings from the cache there.
    """

    def __init__(self, faces_dir: Path, data_dir: Path | None = None) -> None:
        self.faces_dir = faces_dir
        self.data_dir = data_dir
        self._lock = threading.Lock()

    def people(self) -> list[PersonInfo]:
        """Everyone, in name order, with their photos."""
        grouped: dict[str, list[PhotoInfo]] = {}
        for name, photo in person_photos(self.faces_dir):
            try:
                added = photo.stat().st_mtime
            except OSError:
                continue  # removed while we looked
            grouped.setdefault(name, []).append(PhotoInfo(photo.name, added))
        return [
            PersonInfo(name, photos, len(negative_files(self.faces_dir / name)))
            for name, photos in sorted(grouped.items())
        ]

    def person(self, raw_name: str) -> PersonInfo:
        """One person, or NotFound."""
        name = clean_name(raw_name)
        for person in self.people():
            if person.name == name:
                return person
        raise NotFound(f"no person named {name!r}")

    def photo_path(self, raw_name: str, raw_photo_id: str) -> Path:
        """Where one photo lives, or NotFound."""
        name, photo_id = clean_name(raw_name), clean_photo_id(raw_photo_id)
        for candidate in (self.faces_dir / name / photo_id, self.faces_dir / photo_id):
            if candidate.is_file() and (candidate.parent.name == name or candidate.stem == name):
                return candidate
        raise NotFound(f"{name!r} has no photo {photo_id!r}")

    def _folder_of(self, name: str) -> Path:
        """The person's folder, made if needed; a single ``faces/<Name>.jpg`` moves into it first."""
        folder = self.faces_dir / name
        if folder.exists() and not folder.is_dir():
            raise Conflict(f"a file named {name!r} is in the faces folder; a person cannot be named so")
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            for suffix in PHOTO_SUFFIXES:
                loose = self.faces_dir / f"{name}{suffix}"
                if loose.is_file():
                    os.rename(loose, folder / loose.name)
        return folder

    def add_photo(self, raw_name: str, data: bytes, suffix: str) -> PhotoInfo:
        """Store one photo's bytes for a person; the same photo twice is stored once."""
        name = clean_name(raw_name)
        if suffix not in PHOTO_SUFFIXES:
            raise ValueError(f"unsupported photo type {suffix!r}")
        photo_id = hashlib.sha256(data).hexdigest()[:16] + suffix
        with self._lock:
            folder = self._folder_of(name)
            target = folder / photo_id
            new = not target.exists()
            if new:
                _write_new(folder, target, data)
        return PhotoInfo(photo_id, target.stat().st_mtime, new)

    def _forgetting(self, paths: list[Path]) -> AbstractContextManager[None]:
        """Drop these photos' cached encodings, then run the block under the cache's lock (no cache: just run it)."""
        if self.data_dir is None:
            return nullcontext()
        digests = set()
        for path in paths:
            with suppress(OSError):  # gone meanwhile: nothing to forget
                digests.add(content_digest(path.read_bytes()))
        return forgetting(self.data_dir, digests)

    def remove_photo(self, raw_name: str, raw_photo_id: str) -> None:
        """Delete one photo and its cached encoding; a person left without photos is removed too, with their
        negative examples."""
        name = clean_name(raw_name)
        with self._lock:
            path = self.photo_path(name, raw_photo_id)
            folder = path.parent if path.parent != self.faces_dir else None
            last = not any(owner == name and other != path for owner, other in person_photos(self.faces_dir))
            orphans = negative_files(folder) if folder is not None and last else []
            with self._forgetting([path, *orphans]):
                path.unlink()
                if folder is None:
                    return
                if last and negatives_folder(folder).is_dir():
                    shutil.rmtree(negatives_folder(folder))
                if not any(folder.iterdir()):
                    folder.rmdir()

    def negatives(self, raw_name: str) -> list[PhotoInfo]:
        """The faces marked as not this person (NotFound if nobody has this name)."""
        person = self.person(raw_name)
        found = []
        for path in negative_files(self.faces_dir / person.name):
            with suppress(OSError):  # removed while we looked
                found.append(PhotoInfo(path.name, path.stat().st_mtime))
        return found

    def negative_path(self, raw_name: str, raw_negative_id: str) -> Path:
        """Where one negative example lives, or NotFound."""
        name, negative_id = clean_name(raw_name), clean_photo_id(raw_negative_id)
        path = negatives_folder(self.faces_dir / name) / negative_id
        if path.suffix.lower() not in PHOTO_SUFFIXES or not path.is_file():
            raise NotFound(f"{name!r} has no negative example {negative_id!r}")
        return path

    def add_negative(self, raw_name: str, data: bytes, suffix: str) -> PhotoInfo:
        """Keep a face that is not this person (NotFound if nobody has this name); the same face twice is kept
        once. Conflict if it is one of their own enrolled photos: that photo should go instead."""
        name = clean_name(raw_name)
        if suffix not in PHOTO_SUFFIXES:
            raise ValueError(f"unsupported photo type {suffix!r}")
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            own = [path for owner, path in person_photos(self.faces_dir) if owner == name]
            if not own:
                raise NotFound(f"no person named {name!r}")
            for photo in own:
                with suppress(OSError):
                    if content_digest(photo.read_bytes()) == digest:
                        raise Conflict(
                            f"this is {name}'s own enrolled photo {photo.name!r}: remove that photo if it is not them"
                        )
            folder = negatives_folder(self._folder_of(name))
            folder.mkdir(exist_ok=True)
            target = folder / (digest[:16] + suffix)
            new = not target.exists()
            if new:
                _write_new(folder, target, data)
        return PhotoInfo(target.name, target.stat().st_mtime, new)

    def remove_negative(self, raw_name: str, raw_negative_id: str) -> None:
        """Delete one negative example and its cached encoding."""
        with self._lock:
            path = self.negative_path(raw_name, raw_negative_id)
            with self._forgetting([path]):
                path.unlink()
                with suppress(OSError):  # not empty: other examples stay
                    path.parent.rmdir()

    def remove_person(self, raw_name: str) -> None:
        """Delete a person: their folder, their single ``faces/<Name>.<ext>`` photo, and their cached encodings.

        Only what the layout counts as theirs: a photo in their folder that
        happens to share a name with another person's single photo
        (``faces/Ada/Grace_Hopper.jpg``) takes nothing of Grace's with it.
        """
        name = clean_name(raw_name)
        with self._lock:
            self.person(name)
            own = [path for owner, path in person_photos(self.faces_dir) if owner == name]
            with self._forgetting(own + negative_files(self.faces_dir / name)):
                folder = self.faces_dir / name
                if folder.is_dir():
                    hidden = self.faces_dir / f".deleting-{time.time_ns()}"
                    os.rename(folder, hidden)  # gone for readers at once; the files go next
                    shutil.rmtree(hidden)
                for path in own:
                    if path.parent == self.faces_dir:
                        path.unlink(missing_ok=True)

    def rename(self, raw_name: str, raw_new_name: str) -> str:
        """Give a person another name; their photos and negative examples follow."""
        name, new_name = clean_name(raw_name), clean_name(raw_new_name)
        with self._lock:
            self.person(name)
            if new_name != name and any(p.name == new_name for p in self.people()):
                raise Conflict(f"a person named {new_name!r} exists already")
            if new_name != name and (self.faces_dir / new_name).exists():
                raise Conflict(f"{new_name!r} is taken in the faces folder by a file or folder that is not a person")
            folder = self._folder_of(name)
            os.rename(folder, self.faces_dir / new_name)
        return new_name


def _write_new(folder: Path, target: Path, data: bytes) -> None:
    """Write ``target`` whole or not at all: a failed write (no space, read-only) leaves no temporary behind."""
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
