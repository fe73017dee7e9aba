"""Loading the known people from FACES_DIR, with an encoding cache under DATA_DIR.

Layout: ``faces/<Name>/*.jpg|jpeg|png`` or ``faces/<Name>.jpg`` for one photo.
Each photo's result (an encoding, or why it was skipped) is cached under its
content hash and the detection settings, so a restart with hundreds of photos
takes seconds. A photo with no face or several faces is skipped with a log
line. Several workers starting together take a file lock, so only one of them
computes what is missing and the others read its cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import msgpack
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from services.infer import facelib
from services.infer.matcher import NAME_RATIO, PHOTOS_REFERENCE, Gallery
from shared.config import Settings

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
ENROL_DETECT_MAX_SIDE = 1024
"""Photos are searched for a face at most this large (px); the encoding uses the full photo."""
CACHE_VERSION = 1


@dataclass(frozen=True)
class PhotoOutcome:
    """What enrolling one photo gave: an encoding, or the reason it was skipped."""

    status: str  # "ok", "no_face", "many_faces", "unreadable"
    encoding: np.ndarray | None = None
    faces: int = 0


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


def read_rgb(data: bytes) -> np.ndarray:
    """Decode image bytes to an upright RGB array (EXIF rotation applied, alpha dropped)."""
    import io

    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"))


def find_faces(rgb: np.ndarray, upsample: int = 1) -> list[facelib.Box]:
    """Face boxes of a photo, in full-resolution pixels, searched on a copy at most ENROL_DETECT_MAX_SIDE large."""
    height, width = rgb.shape[:2]
    factor = min(1.0, ENROL_DETECT_MAX_SIDE / max(height, width))
    if factor < 1.0:
        small = np.asarray(Image.fromarray(rgb).resize((round(width * factor), round(height * factor))))
    else:
        small = rgb
    return [
        (int(top / factor), min(width, int(right / factor)), min(height, int(bottom / factor)), int(left / factor))
        for top, right, bottom, left in facelib.detect(small, upsample=upsample)
    ]


def encode_photo(rgb: np.ndarray, upsample: int = 1) -> PhotoOutcome:
    """Find exactly one face in a photo and encode it at full resolution.

    A photo with several faces is refused, because which face is meant would
    be a guess (an upload of a group photo is cut to its largest face first:
    services/people/photos.py).
    """
    boxes = find_faces(rgb, upsample)
    if len(boxes) != 1:
        return PhotoOutcome("no_face" if not boxes else "many_faces", faces=len(boxes))
    return PhotoOutcome("ok", facelib.encode(rgb, boxes)[0], faces=1)


class EncodingCache:
    """Photo outcomes keyed by content hash and settings, in one msgpack file."""

    def __init__(self, data_dir: Path, signature: str) -> None:
        self.folder = data_dir / "cache"
        self.path = self.folder / f"encodings-v{CACHE_VERSION}.msgpack"
        self.signature = signature
        self.entries: dict[str, dict] = {}
        self.dirty = False

    def load(self) -> None:
        """Read the cache file; a missing or damaged one just means starting empty."""
        try:
            self.entries = msgpack.unpackb(self.path.read_bytes(), raw=False)
            if not isinstance(self.entries, dict):
                raise ValueError("not a map")
        except FileNotFoundError:
            self.entries = {}
        except Exception as error:
            log.warning("encoding cache %s is unreadable (%s); rebuilding it", self.path, error)
            self.entries = {}

    def key(self, data: bytes) -> str:
        """The cache key of a photo's bytes under the current settings."""
        return f"{hashlib.sha256(data).hexdigest()}:{self.signature}"

    def get(self, key: str) -> PhotoOutcome | None:
        """The cached outcome, if any."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        encoding = entry.get("encoding")
        return PhotoOutcome(
            entry["status"],
            np.frombuffer(encoding, dtype=np.float64).copy() if encoding else None,
            entry.get("faces", 0),
        )

    def put(self, key: str, outcome: PhotoOutcome) -> None:
        """Remember an outcome."""
        self.entries[key] = {
            "status": outcome.status,
            "faces": outcome.faces,
            "encoding": outcome.encoding.astype(np.float64).tobytes() if outcome.encoding is not None else None,
        }
        self.dirty = True

    def save(self) -> None:
        """Write the cache atomically (a reader never sees half a file)."""
        if not self.dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".encodings-")
        with os.fdopen(handle, "wb") as out:
            out.write(msgpack.packb(self.entries, use_bin_type=True))
        os.replace(temporary, self.path)
        self.dirty = False

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache's file lock: one process builds, the others wait for its result."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "encodings.lock", "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def _cache(data_dir: Path, upsample: int) -> EncodingCache:
    return EncodingCache(data_dir, signature=f"hog-u{upsample}-small")


def remember(data_dir: Path, upsample: int, data: bytes, outcome: PhotoOutcome) -> None:
    """Put a photo's outcome in the cache, so workers reloading the gallery need not encode it again."""
    cache = _cache(data_dir, upsample)
    with cache.locked():
        cache.load()
        cache.put(cache.key(data), outcome)
        cache.save()


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


def gallery_for(settings: Settings) -> Gallery:
    """The gallery of the configured faces folder, judged with the configured background set and ratio."""
    return load_gallery(
        settings.faces_dir, settings.data_dir, settings.upsample,
        background=settings.background_file, name_ratio=settings.name_ratio,
    )


def load_gallery(
    faces_dir: Path, data_dir: Path, upsample: int = 1, background: Path | None = None, name_ratio: float = NAME_RATIO
) -> Gallery:
    """Build the gallery from the faces folder, using and updating the cache."""
    cache = _cache(data_dir, upsample)
    names: list[str] = []
    encodings: list[np.ndarray] = []
    skipped = computed = 0
    with cache.locked():
        cache.load()
        for person, photo in person_photos(faces_dir):
            try:
                data = photo.read_bytes()
            except OSError as error:
                log.warning("skipped %s: cannot read it (%s)", photo, error)
                skipped += 1
                continue
            key = cache.key(data)
            outcome = cache.get(key)
            if outcome is None:
                try:
                    outcome = encode_photo(read_rgb(data), upsample)
                except (UnidentifiedImageError, OSError, ValueError) as error:
                    log.warning("skipped %s: not a readable image (%s)", photo, error)
                    outcome = PhotoOutcome("unreadable")
                cache.put(key, outcome)
                computed += 1
            if outcome.status == "ok" and outcome.encoding is not None:
                names.append(person)
                encodings.append(outcome.encoding)
            else:
                skipped += 1
                reason = {
                    "no_face": "no face found",
                    "many_faces": f"{outcome.faces} faces found; use a photo with exactly one",
                    "unreadable": "not a readable image",
                }.get(outcome.status, outcome.status)
                log.warning("skipped %s (for %s): %s", photo, person, reason)
        cache.save()
    gallery = Gallery(names, np.asarray(encodings).reshape(-1, 128), background=background, name_ratio=name_ratio)
    gallery.background  # read and prune the background set now, in the loader, not on the first live frame
    log.info(
        "known faces: %d people, %d photos (%d newly encoded, %d skipped) from %s",
        len(gallery.people), len(gallery), computed, skipped, faces_dir,
    )
    few = [person for person, count in zip(gallery.people, gallery.photo_counts) if count < PHOTOS_REFERENCE]
    if few:
        log.info(
            "%d people have fewer than %d usable photos and will be named less often (add photos in other "
            "light and angles): %s%s",
            len(few), PHOTOS_REFERENCE, ", ".join(few[:10]), " ..." if len(few) > 10 else "",
        )
    return gallery
