"""The known people of FACES_DIR as a :class:`Gallery`, built through the encoding cache.

A photo with no face or several faces is skipped with a log line saying
which and why; the rest become the gallery the workers and the still-image
recogniser match against, with each person's negative examples (faces that
are not them, ``faces/<Name>/.not/``), read the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import UnidentifiedImageError

from shared.config import DEFAULT_NAME_RATIO, Settings
from shared.faces.encoding_cache import EncodingCache, cache_for
from shared.faces.matcher import PHOTOS_REFERENCE, Gallery
from shared.faces.photo import DEFAULT_MAX_MEGAPIXELS, PhotoOutcome, PhotoTooLarge, encode_photo, read_rgb
from shared.people.layout import person_negatives, person_photos

log = logging.getLogger(__name__)

SKIP_REASONS = {
    "no_face": "no face found",
    "many_faces": "{faces} faces found; use a photo with exactly one",
    "unreadable": "not a readable image",
}


def gallery_for(settings: Settings) -> Gallery:
    """The gallery of the configured faces folder, judged with the configured background set and ratio."""
    return load_gallery(
        settings.faces_dir,
        settings.data_dir,
        settings.upsample,
        background=settings.background_file,
        name_ratio=settings.name_ratio,
        max_megapixels=settings.max_photo_megapixels,
    )


def load_gallery(
    faces_dir: Path,
    data_dir: Path,
    upsample: int = 1,
    background: Path | None = None,
    name_ratio: float = DEFAULT_NAME_RATIO,
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS,
) -> Gallery:
    """Build the gallery from the faces folder (photos and negative examples), using and updating the cache."""
    cache = cache_for(data_dir, upsample)
    reader = _Encoder(cache, upsample, max_megapixels)
    names: list[str] = []
    encodings: list[np.ndarray] = []
    negatives: dict[str, list[np.ndarray]] = {}
    with cache.locked():
        cache.load()
        for person, photo in person_photos(faces_dir):
            encoding = reader.encoding(photo, f"for {person}")
            if encoding is not None:
                names.append(person)
                encodings.append(encoding)
        for person, example in person_negatives(faces_dir):
            encoding = reader.encoding(example, f"a face that is not {person}")
            if encoding is not None:
                negatives.setdefault(person, []).append(encoding)
        cache.save_or_warn()  # a full or read-only cache costs encoding again next time, never the start
    skipped, computed = reader.skipped, reader.computed
    gallery = Gallery(
        names,
        np.asarray(encodings).reshape(-1, 128),
        background=background,
        name_ratio=name_ratio,
        negatives={person: np.asarray(found) for person, found in negatives.items()},
    )
    gallery.prepare()
    log.info(
        "known faces: %d people, %d photos, %d negative examples (%d newly encoded, %d skipped) from %s",
        len(gallery.people),
        len(gallery),
        sum(len(found) for found in gallery.negatives.values()),
        computed,
        skipped,
        faces_dir,
    )
    few = [person for person, count in zip(gallery.people, gallery.photo_counts) if count < PHOTOS_REFERENCE]
    if few:
        log.info(
            "%d people have fewer than %d usable photos and will be named less often (add photos in other "
            "light and angles): %s%s",
            len(few),
            PHOTOS_REFERENCE,
            ", ".join(few[:10]),
            " ..." if len(few) > 10 else "",
        )
    return gallery


class _Encoder:
    """One image file's encoding through the cache (encoding it if the cache lacks it), counting what it did."""

    def __init__(self, cache: EncodingCache, upsample: int, max_megapixels: float) -> None:
        self.cache = cache
        self.upsample = upsample
        self.max_megapixels = max_megapixels
        self.skipped = 0
        self.computed = 0

    def encoding(self, path: Path, what: str) -> np.ndarray | None:
        """The encoding of the one face in ``path``, or None (logged, saying ``what`` the file was) if it has none."""
        try:
            data = path.read_bytes()
        except OSError as error:
            log.warning("skipped %s: cannot read it (%s)", path, error)
            self.skipped += 1
            return None
        key = self.cache.key(data)
        outcome = self.cache.get(key)
        if outcome is None:
            try:
                outcome = encode_photo(read_rgb(data, self.max_megapixels), self.upsample)
            except PhotoTooLarge as error:  # not cached: the limit is a setting, and may be raised
                log.warning("skipped %s: %s (MAX_PHOTO_MEGAPIXELS)", path, error)
                self.skipped += 1
                return None
            except (UnidentifiedImageError, OSError, ValueError) as error:
                log.warning("skipped %s: not a readable image (%s)", path, error)
                outcome = PhotoOutcome("unreadable")
            self.cache.put(key, outcome)
            self.computed += 1
        if outcome.status == "ok" and outcome.encoding is not None:
            return outcome.encoding
        self.skipped += 1
        reason = SKIP_REASONS.get(outcome.status, outcome.status).format(faces=outcome.faces)
        log.warning("skipped %s (%s): %s", path, what, reason)
        return None
