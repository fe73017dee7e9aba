"""Face encodings of the shared test data, computed once with the product's code and cached.

Why it exists: ``bench/accuracy.py``, ``bench/build_background.py`` and the
accuracy test all need the same dlib encodings of ``../shared/data``. Encoding
~1,500 photos takes minutes on a small machine, so each photo's result is
cached under its content hash in a folder outside the repository (default
``$TMPDIR/facestream-bench-cache``, or ``FACESTREAM_BENCH_CACHE``).

How a face is encoded (the product's enrolment path, ``shared.faces.photo.encode_photo``,
made to accept photos with several faces):

* the photo is read with ``shared.faces.photo.read_rgb`` (EXIF rotation, RGB);
* faces are detected with ``facelib.detect`` (HOG, upsample 1, the defaults) on
  a copy shrunk to at most ``shared.faces.detect.ENROL_DETECT_MAX_SIDE`` px, exactly as
  ``encode_photo`` does, and the boxes are scaled back to full resolution;
* each chosen face is encoded with ``facelib.encode`` on the full photo.

``encode_photo`` refuses a photo with several faces; LFW photos often show
other people behind the subject, so here the subject is the detected face whose
centre is nearest the image centre (LFW deep-funneled photos are 250x250 and
centred on the labelled person). On a photo with exactly one face this is
what ``encode_photo`` returns.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from shared.boxes import PixelBox as Box  # noqa: E402
from shared.faces import facelib  # noqa: E402
from shared.faces.detect import ENROL_DETECT_MAX_SIDE  # noqa: E402
from shared.faces.photo import photo_faces, read_rgb  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
UPSAMPLE = 1


def encoder_signature() -> str:
    """A digest of everything that decides a face's boxes and encoding here: the product's code that finds and
    encodes faces, this file (detect_faces, the modes), the settings, and the versions of dlib and its models. Any
    change makes a new cache file, so a change is never scored on old encodings."""
    from shared.faces import detect, photo

    digest = hashlib.sha256(f"u{UPSAMPLE}-max{ENROL_DETECT_MAX_SIDE}".encode())
    for module in (facelib, detect, photo):
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(Path(__file__).read_bytes())
    for package in ("dlib", "dlib-bin", "face_recognition_models"):
        try:
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
        except importlib.metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()[:16]


SIGNATURE = encoder_signature()
ENROLLED_PER_PERSON = 3


def default_cache_dir() -> Path:
    """Where encodings are cached: ``FACESTREAM_BENCH_CACHE`` or a folder in the system temp dir."""
    return Path(os.environ.get("FACESTREAM_BENCH_CACHE", Path(tempfile.gettempdir()) / "facestream-bench-cache"))


class EncodingStore:
    """Detected boxes and encodings per photo, keyed by content hash, in one ``.npz`` file (no pickle)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"encodings-{SIGNATURE}.npz"
        self.entries: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.dirty = False
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                keys, counts = stored["keys"], stored["counts"]
                ends = np.cumsum(counts)
                for key, count, end in zip(keys, counts, ends):
                    self.entries[str(key)] = (
                        stored["boxes"][end - count : end],
                        stored["encodings"][end - count : end],
                    )
        except (FileNotFoundError, KeyError, ValueError, OSError):
            self.entries = {}

    def faces(self, photo: Path, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (n, 4) and encodings (n, 128) of a photo's faces.

        ``mode``: "centre" (the face nearest the centre), "all", or "chip" (all faces, or the whole
        image as one face box when none is found: for aligned 150x150 face chips that fill the frame).
        """
        data = photo.read_bytes()
        key = f"{hashlib.sha256(data).hexdigest()}:{mode}"
        if key not in self.entries:
            rgb = read_rgb(data)
            boxes = detect_faces(rgb)
            if mode == "centre" and boxes:
                boxes = [nearest_centre(boxes, rgb.shape[1], rgb.shape[0])]
            if mode == "chip" and not boxes:
                boxes = [(0, rgb.shape[1], rgb.shape[0], 0)]
            encodings = facelib.encode(rgb, boxes) if boxes else np.zeros((0, 128))
            self.entries[key] = (np.asarray(boxes, dtype=np.int64).reshape(-1, 4), encodings.reshape(-1, 128))
            self.dirty = True
        return self.entries[key]

    def save(self) -> None:
        """Write the store atomically (another run never reads half a file)."""
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.entries)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".encodings-", suffix=".npz")
        with os.fdopen(handle, "wb") as out:
            np.savez(
                out,
                keys=np.asarray(keys, dtype=str),
                counts=np.asarray([len(self.entries[k][0]) for k in keys], dtype=np.int64),
                boxes=np.concatenate([self.entries[k][0] for k in keys] or [np.zeros((0, 4))]).astype(np.int64),
                encodings=np.concatenate([self.entries[k][1] for k in keys] or [np.zeros((0, 128))]),
            )
        os.replace(temporary, self.path)
        self.dirty = False


def detect_faces(rgb: np.ndarray) -> list[Box]:
    """Face boxes at full resolution, found as enrolment finds them (``shared.faces.photo.photo_faces``)."""
    return photo_faces(rgb, UPSAMPLE)


def nearest_centre(boxes: list[Box], width: int, height: int) -> Box:
    """The box whose centre is nearest the image centre: the labelled subject of an LFW photo."""

    def off_centre(box: Box) -> float:
        top, right, bottom, left = box
        return ((left + right) / 2 - width / 2) ** 2 + ((top + bottom) / 2 - height / 2) ** 2

    return min(boxes, key=off_centre)


@dataclass
class Protocol:
    """The lfw_dev identification protocol, encoded.

    ``gallery_*``: the enrolled photos (first 3 by file name of each known person that had a face).
    ``probe_*``: every other photo with a face; ``probe_truth`` is the person's name if they are
    enrolled, else None (a stranger). Photos where no face was found are counted, not scored.
    """

    gallery_names: list[str]
    gallery_encodings: np.ndarray
    probe_encodings: np.ndarray
    probe_truth: list[str | None]
    probe_identity: list[str]
    probe_paths: list[str]
    no_face: dict[str, int] = field(default_factory=dict)

    @property
    def known_mask(self) -> np.ndarray:
        """True for probes of enrolled people."""
        return np.asarray([truth is not None for truth in self.probe_truth])


def known_identities(lfw: Path) -> list[str]:
    """The 40 identities ``identities.tsv`` marks "known"."""
    rows = [line.split("\t") for line in (lfw / "identities.tsv").read_text().splitlines()[1:] if line.strip()]
    return sorted(row[0] for row in rows if row[1] == "known")


def lfw_protocol(
    data: Path, store: EncodingStore, quick: bool = False, progress: bool = False, enrol: int = ENROLLED_PER_PERSON
) -> Protocol:
    """Enrol the first ``enrol`` (3) photos of each known person; every other photo of lfw_dev is a probe.

    ``quick`` keeps every probe of the known people but only every 4th stranger identity
    (a smoke run; the full run is the measurement).
    """
    lfw = data / "lfw_dev"
    known = set(known_identities(lfw))
    identities = sorted(path.name for path in (lfw / "images").iterdir() if path.is_dir())
    if quick:
        strangers = [name for name in identities if name not in known]
        identities = sorted(known | set(strangers[::4]))
    gallery_names: list[str] = []
    gallery: list[np.ndarray] = []
    probes: list[np.ndarray] = []
    truth: list[str | None] = []
    probe_identity: list[str] = []
    paths: list[str] = []
    no_face = {"enrolled": 0, "known_probes": 0, "strangers": 0}
    done = 0
    announced = False
    for identity in identities:
        photos = sorted((lfw / "images" / identity).glob("*.jpg"))
        for index, photo in enumerate(photos):
            _, encodings = store.faces(photo, "centre")
            done += 1
            if progress and store.dirty and not announced:
                print(f"  encoding lfw_dev photos (once; cached in {store.path.parent})", file=sys.stderr, flush=True)
                announced = True
            if store.dirty and done % 100 == 0:
                if progress:
                    print(f"  {done} photos done", file=sys.stderr, flush=True)
                store.save()
            enrolled = identity in known and index < enrol
            if len(encodings) == 0:
                no_face["enrolled" if enrolled else "known_probes" if identity in known else "strangers"] += 1
                continue
            if enrolled:
                gallery_names.append(identity)
                gallery.append(encodings[0])
            else:
                probes.append(encodings[0])
                truth.append(identity if identity in known else None)
                probe_identity.append(identity)
                paths.append(str(photo.relative_to(data)))
    store.save()
    return Protocol(
        gallery_names,
        np.asarray(gallery).reshape(-1, 128),
        np.asarray(probes).reshape(-1, 128),
        truth,
        probe_identity,
        paths,
        no_face,
    )
