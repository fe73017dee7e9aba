"""The faces folder's layout: ``faces/<Name>/*.jpg|jpeg|png|webp|bmp``, or ``faces/<Name>.jpg`` for one photo.

A person's negative examples (faces that are *not* them, "this is not Ana")
live beside their photos in ``faces/<Name>/.not/``: hidden, so nothing that
lists photos takes them for photos, and inside the person's folder, so a
rename or a delete carries them along. The folder is the single source of
truth for who is known: the workers, the still-image recogniser, the store
and the CLI all read it through here.
"""

from __future__ import annotations

from pathlib import Path

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
NEGATIVES_FOLDER = ".not"
"""The folder, inside a person's, of faces that are not them."""


def person_photos(faces_dir: Path) -> list[tuple[str, Path]]:
    """Every (person, photo) pair in the faces folder, in a stable order."""
    pairs: list[tuple[str, Path]] = []
    if not faces_dir.is_dir():
        return pairs
    for entry in sorted(faces_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            pairs.extend(
                (entry.name, photo)
                for photo in sorted(entry.iterdir())
                if photo.suffix.lower() in PHOTO_SUFFIXES and not photo.name.startswith(".")
            )
        elif entry.suffix.lower() in PHOTO_SUFFIXES:
            pairs.append((entry.stem, entry))
    return pairs


def negatives_folder(person_folder: Path) -> Path:
    """Where a person's negative examples are kept."""
    return person_folder / NEGATIVES_FOLDER


def negative_files(person_folder: Path) -> list[Path]:
    """A person's negative examples, in a stable order (none if they have no folder of them)."""
    try:
        entries = sorted(negatives_folder(person_folder).iterdir())
    except OSError:
        return []
    return [entry for entry in entries if entry.suffix.lower() in PHOTO_SUFFIXES and not entry.name.startswith(".")]


def person_negatives(faces_dir: Path) -> list[tuple[str, Path]]:
    """Every (person, negative example) pair, for the people who have photos."""
    people = {person for person, _ in person_photos(faces_dir)}
    return [(person, path) for person in sorted(people) for path in negative_files(faces_dir / person)]


def folder_signature(faces_dir: Path) -> tuple[int, ...]:
    """Modification times of the faces folder, each person's folder and their negatives' folder: changes when any
    photo or negative example comes or goes.

    Cheap enough to check every second (two stats per person), so photos
    dropped into the folder by hand are picked up without a restart.
    """
    try:
        folders = sorted(entry for entry in faces_dir.iterdir() if entry.is_dir())
        times = [faces_dir.stat().st_mtime_ns]
        for folder in folders:
            times.append(folder.stat().st_mtime_ns)
            times.append(_modified_or_absent(negatives_folder(folder)))
        return tuple(times)
    except OSError:
        return ()


def _modified_or_absent(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1
