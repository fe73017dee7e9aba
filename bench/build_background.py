"""Rebuild the matcher's background set: encodings of faces of people nobody enrols.

Why it exists: the matcher (``shared/faces/matcher.py``) judges how close a
face is to a known person against how close it is to a crowd of people who are
certainly not enrolled (cohort normalisation). That crowd ships with the code
as ``shared/faces/background/encodings-v1.npy``: float32, one 128-number dlib
encoding per row, no photos, no names. This script rebuilds it from the public
photos in ``../shared/data``:

* ``images_multi_face/``      group photos (every face found)
* ``images_single_face/``     single portraits
* ``dlib_faces_annotated/faces/``  PASCAL VOC group photos and dlib's collage
* ``dlib_faces_annotated/johns/``  5 people x 11 aligned 150x150 chips (the whole chip
  is the face box when HOG finds none, since a chip is all face)

Faces are found and encoded with the product's enrolment code path (see
``bench/face_data.py``: HOG, upsample 1, photos shrunk to 1024 px for detection,
encoded at full resolution).

What is left out, and why. The accuracy measurement (``bench/accuracy.py``) uses
LFW's lfw_dev people as enrolled people and as strangers; a background face of
one of *them* would make the measurement look better than it is (a stranger
who is in the background is rejected for free). Some public photos here show
people who are also in lfw_dev, so their faces are removed:

* whole files: ``ageitgey__biden.jpg`` (Joseph_Biden, enrolled in lfw_dev),
  ``insightface__Tom_Hanks_54745.png`` (Tom_Hanks, an lfw_dev stranger), ``dogs.jpg`` (no person),
  dlib's ``bald_guys.jpg`` collage (both copies: mostly Jason_Statham and Dwayne_Johnson, lfw_dev
  strangers, some of whose small faces are too far from their LFW photos to be told apart safely);
* single faces inside group photos, identified as the faces within
  ``EXCLUDE_DISTANCE`` of any lfw_dev photo of that person: Joseph_Biden
  (obama_and_biden, two_people), Angelina_Jolie (the Oscars selfie, couple), Matthew_Perry
  (the two Friends photos), and Tom_Hanks, Jason_Statham, Dwayne_Johnson to be safe. These
  names were found by looking at the photos; each removal is printed.

Near-copies (the same photo at several sizes, or in two sets) are kept once.
Finally every kept face's nearest lfw_dev photo is printed when it is closer
than ``AUDIT_DISTANCE``, so a person missed by the list above can be spotted.

Run from the repository root::

    .venv/bin/python bench/build_background.py            # writes shared/faces/background/encodings-v1.npy
    .venv/bin/python bench/build_background.py --out /tmp/bg.npy --data /path/to/data

Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench.face_data import DEFAULT_DATA, EncodingStore, default_cache_dir  # noqa: E402

OUT = REPO / "services" / "infer" / "background" / "encodings-v1.npy"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".webp"}
SOURCES = [
    ("images_multi_face", "all"),
    ("images_single_face", "all"),
    ("dlib_faces_annotated/faces", "all"),
    ("dlib_faces_annotated/johns", "chip"),
]
EXCLUDED_FILES = {
    "images_single_face/ageitgey__biden.jpg": "Joseph_Biden, enrolled in lfw_dev",
    "images_single_face/insightface__Tom_Hanks_54745.png": "Tom_Hanks, a stranger in lfw_dev",
    "dlib_faces_annotated/faces/dogs.jpg": "dogs, no person",
    "images_multi_face/davisking__bald_guys.jpg": "a collage mostly of Jason_Statham and Dwayne_Johnson (lfw_dev)",
    "dlib_faces_annotated/faces/bald_guys.jpg": "the same collage",
}
EXCLUDED_LFW_PEOPLE = [
    "Joseph_Biden",
    "Angelina_Jolie",
    "Jason_Statham",
    "Dwayne_Johnson",
    "Matthew_Perry",
    "Tom_Hanks",
]
EXCLUDE_DISTANCE = 0.6
"""A face this close to a photo of an excluded person is taken to be them (dlib: same person is mostly < 0.5)."""
DUPLICATE_DISTANCE = 0.15
"""Two faces this close are one photo twice (different photos of one person are rarely this close)."""
AUDIT_DISTANCE = 0.45


def background_photos(data: Path) -> list[tuple[Path, str]]:
    """Every (photo, mode) of the background sources, minus the excluded files, in a stable order."""
    photos = []
    for folder, mode in SOURCES:
        for photo in sorted((data / folder).rglob("*")):
            relative = str(photo.relative_to(data))
            if photo.suffix.lower() in PHOTO_SUFFIXES and relative not in EXCLUDED_FILES:
                photos.append((photo, mode))
    return photos


def lfw_encodings(data: Path, store: EncodingStore, people: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """The subject encodings of lfw_dev photos (of ``people``, or of everyone), with their names."""
    root = data / "lfw_dev" / "images"
    encodings, names = [], []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if people is not None and folder.name not in people:
            continue
        for photo in sorted(folder.glob("*.jpg")):
            _, found = store.faces(photo, "centre")
            encodings.extend(found)
            names.extend([folder.name] * len(found))
    return np.asarray(encodings).reshape(-1, 128), names


def nearest(faces: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each face, the index of and distance to the nearest of ``others``."""
    if len(others) == 0:
        return np.zeros(len(faces), dtype=np.int64), np.full(len(faces), np.inf)
    distances = np.linalg.norm(faces[:, None, :] - others[None, :, :], axis=2)
    index = np.argmin(distances, axis=1)
    return index, distances[np.arange(len(faces)), index]


def build(data: Path, store: EncodingStore, verbose: bool = True) -> np.ndarray:
    """The background encodings (float32, (n, 128)) from the data folder; prints what it kept and dropped."""
    say = print if verbose else (lambda *_args, **_kwargs: None)
    faces, origins = [], []
    for photo, mode in background_photos(data):
        _, found = store.faces(photo, mode)
        faces.extend(found)
        origins.extend([str(photo.relative_to(data))] * len(found))
    store.save()
    faces_array = np.asarray(faces).reshape(-1, 128)
    say(f"found {len(faces_array)} faces in {len(set(origins))} photos")
    for relative, why in EXCLUDED_FILES.items():
        say(f"  left out {relative}: {why}")

    keep = np.ones(len(faces_array), dtype=bool)
    excluded, excluded_names = lfw_encodings(data, store, EXCLUDED_LFW_PEOPLE)
    if len(excluded) == 0:
        say("WARNING: lfw_dev not found: faces of lfw_dev people in the group photos cannot be left out")
    index, distance = nearest(faces_array, excluded)
    for face in np.flatnonzero(distance < EXCLUDE_DISTANCE):
        keep[face] = False
        say(f"  left out a face in {origins[face]}: {excluded_names[index[face]]} (distance {distance[face]:.2f})")

    for face in range(len(faces_array)):
        if not keep[face]:
            continue
        earlier = np.flatnonzero(keep[:face])
        gaps = np.linalg.norm(faces_array[earlier] - faces_array[face], axis=1)
        if len(earlier) and gaps.min() < DUPLICATE_DISTANCE:
            keep[face] = False
            say(f"  left out a near-copy in {origins[face]}")

    kept = faces_array[keep]
    everyone, names = lfw_encodings(data, store, None)
    store.save()
    index, distance = nearest(kept, everyone)
    kept_origins = [origin for origin, flag in zip(origins, keep) if flag]
    for face in np.flatnonzero(distance < AUDIT_DISTANCE):
        say(f"  audit: a kept face in {kept_origins[face]} is {distance[face]:.2f} from lfw_dev {names[index[face]]}")
    say(f"kept {len(kept)} faces from {len(set(kept_origins))} photos")
    return kept.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the .npy to write (default {OUT.relative_to(REPO)})")
    parser.add_argument("--cache", type=Path, default=default_cache_dir(), help="encoding cache (outside the repo)")
    args = parser.parse_args(argv)
    if not all((args.data / folder).is_dir() for folder, _ in SOURCES):
        print(f"face data not found under {args.data}: nothing to build (the shipped background is unchanged)")
        return 0
    background = build(args.data, EncodingStore(args.cache))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, background)
    print(f"wrote {args.out} ({background.shape[0]} x {background.shape[1]} float32, {args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
