"""The faces folder's layout: ``faces/<Name>/*.jpg|jpeg|png|webp|bmp``, or ``faces/<Name>.jpg`` for one photo.

The folder is the single source of truth for who is known: the workers, the
still-image recogniser, the store and the CLI all read it through here.
"""

from __future__ import annotations

from pathlib import Path

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


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


def folder_signature(faces_dir: Path) -> tuple[int, ...]:
    """Modification times of the faces folder and each person's folder: changes when any photo comes or goes.

    Cheap enough to check every second (one stat per person), so photos
    dropped into the folder by hand are picked up without a restart.
    """
    try:
        entries = [faces_dir, *sorted(entry for entry in faces_dir.iterdir() if entry.is_dir())]
        return tuple(entry.stat().st_mtime_ns for entry in entries)
    except OSError:
        return ()
