"""A synthetic camera scene with ground truth: LFW faces moving over a large background.

Why it exists: no clip in ``../shared/data`` shows small faces in a large
frame, and none says where every face is on every frame. This one does: real
LFW photos of known people (photo 4 of each, so the face on screen is not one
of the enrolled photos 1-3) are pasted with a feathered elliptical edge on a
photo without faces, at face heights of 40 to 160 px, moving slowly in
straight lines and never overlapping, 4-8 at a time. The first second and one
second in the middle show no face at all (where every box is a false one).

A face's size is the height of the box dlib's HOG detector (the product's
``shared.faces.facelib.detect``) finds on the 250x250 photo, scaled: a 40 px
face is one the detector would box 40 px tall, and the truth box is that box
on the frame. People whose photo 4 shows more than one face (another person
at the edge) are left out, so every face on a frame is in the truth.

Frames are made on demand (a 4K frame is 25 MB); the same scene and frame
index always give the same picture. Used by ``bench/small_faces.py`` and
``tests/integration/test_small_faces.py``; ``--write OUT.mp4`` writes a clip
to look at.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from shared.boxes import PixelBox, iou, to_normalised  # noqa: E402
from shared.faces import facelib  # noqa: E402

SIZES = (40, 50, 60, 80, 100, 120, 160)
"""Face heights on the frame (px), dealt out in turn so every size appears."""
ENROL_PHOTOS = 3
"""Photos 1-3 of a person are enrolled; photo 4 is the one on screen."""
BACKGROUND = "skimage__brick.png"
SPEED_PX_S = (20.0, 80.0)
"""How fast a face drifts, like a person walking towards a camera."""
APPEARANCE_S = (2.5, 5.0)
"""How long one person stays on screen before someone else takes the slot."""
SHORTEST_APPEARANCE_S = 1.0
EMPTY_S = 1.0
"""Length of each stretch without faces: the first one and one in the middle."""
MARGIN = 0.5
"""Photo cut around the face box, as a fraction of the box on each side: hair, ears, some background."""
GAP_PX = 8
"""The pasted cut-outs of two faces stay at least this far apart."""
NOISE_TILE_PX = 256
PLACEMENT_TRIES = 300


class SceneDataMissing(FileNotFoundError):
    """The face data is not there; tests turn this into a skip, benches into a message."""


def default_data_dir() -> Path:
    """The face data, by the tests' rule: ``FACESTREAM_TEST_DATA``, else ``../shared/data`` beside the repository."""
    return Path(os.environ.get("FACESTREAM_TEST_DATA", REPO.parent / "shared" / "data")).resolve()


@dataclass(frozen=True)
class TruthFace:
    """One face on one frame: where it is, who it is, and how tall it was made."""

    box: PixelBox
    name: str
    size_px: int


@dataclass
class Appearance:
    """One person on screen from ``start`` to ``end`` (frame indices, end excluded), moving in a straight line."""

    name: str
    size_px: int
    start: int
    end: int
    origin: tuple[float, float]
    """Top-left corner of the pasted cut-out on frame ``start`` (x, y, px)."""
    velocity: tuple[float, float]
    """Pixels per frame (x, y)."""
    patch: np.ndarray = field(repr=False)
    alpha: np.ndarray = field(repr=False)
    """Opacity of each patch pixel, 0..1, float32, shape (h, w, 1)."""
    face_in_patch: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    """The face box inside the patch (top, right, bottom, left), float px."""

    def corner(self, index: int) -> tuple[int, int]:
        """The patch's top-left pixel on frame ``index``."""
        steps = index - self.start
        return round(self.origin[0] + self.velocity[0] * steps), round(self.origin[1] + self.velocity[1] * steps)

    def rectangle(self, index: int) -> tuple[int, int, int, int]:
        """The patch on frame ``index`` as (left, top, right, bottom)."""
        left, top = self.corner(index)
        height, width = self.patch.shape[:2]
        return left, top, left + width, top + height

    def truth(self, index: int) -> TruthFace:
        """The face's box on frame ``index``."""
        left, top = self.corner(index)
        face_top, face_right, face_bottom, face_left = self.face_in_patch
        box = (round(top + face_top), round(left + face_right), round(top + face_bottom), round(left + face_left))
        return TruthFace(box, self.name, self.size_px)


class Frames:
    """The scene's frames, made one at a time when asked for: ``len()``, indexing and iteration."""

    def __init__(self, scene: Scene) -> None:
        self._scene = scene

    def __len__(self) -> int:
        return self._scene.frame_count

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} of {len(self)}")
        return self._scene.render(index)

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self._scene.render(index)


@dataclass
class Scene:
    """A clip with ground truth: ``frames[i]`` (BGR uint8, made on demand) and ``truth[i]`` for each frame."""

    width: int
    height: int
    fps: float
    frame_count: int
    background: np.ndarray = field(repr=False)
    appearances: list[Appearance]
    enrol: dict[str, list[Path]]
    """The enrolment photos of each person on screen."""
    empty_spans: list[tuple[int, int]]
    """(first, last + 1) frame of each stretch made without faces."""
    seed: int = 0
    noise_sigma: float = 2.0
    truth: list[list[TruthFace]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.truth = [
            [appearance.truth(index) for appearance in self.appearances if appearance.start <= index < appearance.end]
            for index in range(self.frame_count)
        ]

    @property
    def frames(self) -> Frames:
        """Every frame, made when read."""
        return Frames(self)

    def render(self, index: int) -> np.ndarray:
        """Frame ``index``: the background with a little sensor noise, and the faces on screen pasted on it."""
        frame = self.background.copy()
        if self.noise_sigma > 0:
            rng = np.random.default_rng((self.seed, index))
            tile = rng.normal(0.0, self.noise_sigma, (NOISE_TILE_PX, NOISE_TILE_PX, 3)).astype(np.int16)
            shift = rng.integers(0, NOISE_TILE_PX, 2)
            tile = np.roll(tile, tuple(shift), axis=(0, 1))
            reps = (math.ceil(self.height / NOISE_TILE_PX), math.ceil(self.width / NOISE_TILE_PX), 1)
            noise = np.tile(tile, reps)[: self.height, : self.width]
            frame = cv2.add(frame, noise, dtype=cv2.CV_8U)
        for appearance in self.appearances:
            if appearance.start <= index < appearance.end:
                left, top, right, bottom = appearance.rectangle(index)
                region = frame[top:bottom, left:right].astype(np.float32)
                blended = appearance.alpha * appearance.patch + (1.0 - appearance.alpha) * region
                frame[top:bottom, left:right] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return frame

    def is_empty(self, index: int) -> bool:
        """Whether frame ``index`` shows no face."""
        return not self.truth[index]

    def write_video(self, path: Path) -> Path:
        """The clip as an mp4 file (mp4v), as a camera recording would be; returns the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (self.width, self.height))
        if not writer.isOpened():
            raise OSError(f"cannot write a video to {path}")
        try:
            for frame in self.frames:
                writer.write(frame)
        finally:
            writer.release()
        return path

    def write_faces_dir(self, folder: Path) -> Path:
        """The enrolment photos in the faces-folder layout, ``folder/<Name>/*.jpg``; returns the folder."""
        for name, photos in self.enrol.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            for photo in photos:
                shutil.copyfile(photo, folder / name / photo.name)
        return folder

    def faces_at_once(self) -> tuple[int, int]:
        """Fewest and most faces on one frame, over the frames that show any."""
        counts = [len(faces) for faces in self.truth if faces]
        return (min(counts), max(counts)) if counts else (0, 0)


@dataclass(frozen=True)
class _Person:
    name: str
    enrol: list[Path]
    photo: Path
    face: PixelBox


def _known_people(data: Path) -> list[_Person]:
    """Known LFW people with at least four photos whose photo 4 shows exactly one face."""
    rows = [line.split("\t") for line in (data / "lfw_dev" / "identities.tsv").read_text().splitlines()[1:]]
    people = []
    for name in sorted(row[0] for row in rows if len(row) > 1 and row[1] == "known"):
        photos = sorted((data / "lfw_dev" / "images" / name).glob("*.jpg"))
        if len(photos) <= ENROL_PHOTOS:
            continue
        shown = photos[ENROL_PHOTOS]
        rgb = cv2.imread(str(shown))[:, :, ::-1]
        faces = facelib.detect(np.ascontiguousarray(rgb), 1)
        if len(faces) == 1:
            people.append(_Person(name, photos[:ENROL_PHOTOS], shown, faces[0]))
    return people


def _cut_out(person: _Person, size_px: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """The face with a margin, scaled so its box is ``size_px`` tall; its feathered mask; the face box in it."""
    photo = cv2.imread(str(person.photo))
    top, right, bottom, left = person.face
    box_w, box_h = right - left, bottom - top
    pad = round(MARGIN * max(box_w, box_h)) + 2
    padded = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    margin_x, margin_y = round(MARGIN * box_w), round(MARGIN * box_h)
    crop_top, crop_left = top + pad - margin_y, left + pad - margin_x
    crop = padded[crop_top : bottom + pad + margin_y, crop_left : right + pad + margin_x]
    scale = size_px / box_h
    out_w, out_h = max(8, round(crop.shape[1] * scale)), max(8, round(crop.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    patch = cv2.resize(crop, (out_w, out_h), interpolation=interpolation).astype(np.float32)
    mask = np.zeros((out_h, out_w), np.float32)
    centre = (out_w / 2.0, out_h / 2.0)
    axes = (0.88 * out_w / 2.0, 0.92 * out_h / 2.0)
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), (round(axes[0]), round(axes[1])), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(1.0, 0.05 * out_w))
    face_in_patch = (margin_y * scale, (margin_x + box_w) * scale, (margin_y + box_h) * scale, margin_x * scale)
    return patch, mask[:, :, None], face_in_patch


def _rectangles_meet(a: tuple[int, int, int, int], b: tuple[int, int, int, int], gap: int) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _collides(candidate: Appearance, placed: list[Appearance]) -> bool:
    for other in placed:
        first, last = max(candidate.start, other.start), min(candidate.end, other.end)
        for index in range(first, last):
            if _rectangles_meet(candidate.rectangle(index), other.rectangle(index), GAP_PX):
                return True
    return False


def _place(
    rng: np.random.Generator,
    person: _Person,
    size_px: int,
    span: tuple[int, int],
    fps: float,
    frame_size: tuple[int, int],
    placed: list[Appearance],
) -> Appearance | None:
    """The person at a random start and drift that stays on the frame and clear of everyone placed; None if none."""
    width, height = frame_size
    patch, alpha, face_in_patch = _cut_out(person, size_px)
    patch_h, patch_w = patch.shape[:2]
    steps = span[1] - 1 - span[0]
    for _ in range(PLACEMENT_TRIES):
        speed = rng.uniform(*SPEED_PX_S) / fps
        angle = rng.uniform(0.0, 2.0 * math.pi)
        velocity = (speed * math.cos(angle), speed * math.sin(angle))
        travel_x, travel_y = velocity[0] * steps, velocity[1] * steps
        # one pixel of slack each side: corners are rounded to whole pixels
        low_x, high_x = 1.0 + max(0.0, -travel_x), width - patch_w - 1.0 - max(0.0, travel_x)
        low_y, high_y = 1.0 + max(0.0, -travel_y), height - patch_h - 1.0 - max(0.0, travel_y)
        if high_x < low_x or high_y < low_y:
            continue
        origin = (rng.uniform(low_x, high_x), rng.uniform(low_y, high_y))
        candidate = Appearance(person.name, size_px, span[0], span[1], origin, velocity, patch, alpha, face_in_patch)
        if not _collides(candidate, placed):
            return candidate
    return None


def _acts(frames: int, fps: float) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The stretches with faces and the empty ones: empty first second, faces, empty second, faces."""
    empty = max(1, round(EMPTY_S * fps))
    middle = frames // 2 - empty // 2
    if middle - empty < round(SHORTEST_APPEARANCE_S * fps) or frames - middle - empty < round(
        SHORTEST_APPEARANCE_S * fps
    ):
        raise ValueError(f"{frames} frames at {fps} fps are too few for two empty seconds and faces between them")
    return [(empty, middle), (middle + empty, frames)], [(0, empty), (middle, middle + empty)]


def make_scene(
    data: Path,
    width: int,
    height: int,
    frames: int,
    fps: float,
    seed: int,
    *,
    faces_at_once: int = 6,
    background: str = BACKGROUND,
    noise_sigma: float = 2.0,
    sizes: tuple[int, ...] = SIZES,
) -> Scene:
    """A scene of ``frames`` frames: ``faces_at_once`` slots per stretch, each showing one person after another.

    Raises :class:`SceneDataMissing` when the face data is not at ``data``.
    """
    if not (data / "lfw_dev" / "identities.tsv").is_file() or not (data / "images_no_face" / background).is_file():
        raise SceneDataMissing(
            f"face data not found at {data} (needs lfw_dev/ and images_no_face/{background}; "
            "set FACESTREAM_TEST_DATA to its folder)"
        )
    rng = np.random.default_rng(seed)
    people = _known_people(data)
    rng.shuffle(people)
    backdrop = _background(data / "images_no_face" / background, width, height)
    with_faces, empty = _acts(frames, fps)
    spans = []
    for act_start, act_end in with_faces:
        for _ in range(faces_at_once):
            start = act_start
            while start < act_end:
                end = min(act_end, start + round(rng.uniform(*APPEARANCE_S) * fps))
                if act_end - end < round(SHORTEST_APPEARANCE_S * fps):
                    end = act_end
                spans.append((start, end))
                start = end
    spans.sort()
    placed: list[Appearance] = []
    size_deck: list[int] = []
    next_person = 0
    for span in spans:
        if not size_deck:
            size_deck = [int(size) for size in rng.permutation(sizes)]
        busy = {a.name for a in placed if a.start < span[1] and span[0] < a.end}
        for offset in range(len(people)):
            person = people[(next_person + offset) % len(people)]
            if person.name not in busy:
                break
        else:
            continue
        appearance = _place(rng, person, size_deck[-1], span, fps, (width, height), placed)
        if appearance is not None:
            size_deck.pop()
            placed.append(appearance)
            next_person = (people.index(person) + 1) % len(people)
    enrol = {person.name: person.enrol for person in people if any(a.name == person.name for a in placed)}
    return Scene(width, height, fps, frames, backdrop, placed, enrol, empty, seed, noise_sigma)


def _background(path: Path, width: int, height: int) -> np.ndarray:
    """The photo cropped to the frame's aspect ratio and resized to fill it."""
    image = cv2.imread(str(path))
    if image is None:
        raise SceneDataMissing(f"cannot read the background {path}")
    source_h, source_w = image.shape[:2]
    aspect = width / height
    if source_w / source_h > aspect:
        keep = round(source_h * aspect)
        image = image[:, (source_w - keep) // 2 : (source_w - keep) // 2 + keep]
    else:
        keep = round(source_w / aspect)
        image = image[(source_h - keep) // 2 : (source_h - keep) // 2 + keep]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)


def match_faces(found_boxes: list[PixelBox], truth: list[TruthFace], min_iou: float = 0.3) -> list[tuple[int, int]]:
    """Pairs (truth index, found index), one-to-one, best overlap first.

    A found box matches a truth face when their IoU is at least ``min_iou`` or
    its centre lies inside the truth box: a detector may box a face tighter
    or looser than the truth, but a box centred on the face is that face.
    """
    candidates = []
    for truth_index, face in enumerate(truth):
        top, right, bottom, left = face.box
        truth_norm = to_normalised(face.box, 1, 1)
        for found_index, box in enumerate(found_boxes):
            overlap = iou(truth_norm, to_normalised(box, 1, 1))
            centre_y, centre_x = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
            if overlap >= min_iou or (top <= centre_y <= bottom and left <= centre_x <= right):
                candidates.append((overlap, truth_index, found_index))
    pairs: list[tuple[int, int]] = []
    used_truth: set[int] = set()
    used_found: set[int] = set()
    for _, truth_index, found_index in sorted(candidates, reverse=True):
        if truth_index not in used_truth and found_index not in used_found:
            used_truth.add(truth_index)
            used_found.add(found_index)
            pairs.append((truth_index, found_index))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path, required=True, metavar="OUT.mp4", help="the clip to write")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faces", type=Path, help="also write the enrolment photos here (faces-folder layout)")
    parser.add_argument("--data", type=Path, default=default_data_dir())
    args = parser.parse_args()
    try:
        scene = make_scene(args.data, args.width, args.height, round(args.seconds * args.fps), args.fps, args.seed)
    except SceneDataMissing as error:
        print(f"scene: {error}")
        return 2
    scene.write_video(args.write)
    if args.faces:
        scene.write_faces_dir(args.faces)
    fewest, most = scene.faces_at_once()
    sizes = sorted({a.size_px for a in scene.appearances})
    print(
        f"wrote {args.write}: {scene.frame_count} frames, {len(scene.appearances)} appearances of "
        f"{len(scene.enrol)} people, sizes {sizes} px, {fewest}-{most} faces at once, empty {scene.empty_spans}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
