"""Where to look for small faces in a large frame, and at what scale, within a bounded cost.

HOG finds a face when it is about 80 px tall in the image it searches (dlib's
window), so a face of ``min_face_px`` in the source must be searched at
``80 / min_face_px`` times the source size: a 40 px face in a 1080p frame needs
the full frame at twice its size, ~0.7 s of one core. Searching everything at
that scale is unaffordable; faces are where something moves, where a face was
a moment ago, and (for a face that has not moved since the camera started)
somewhere a slow sweep will reach. So each analysed frame gets:

- the **whole-frame pass** on a shrunk copy (``SCALE``, ``MIN_DETECT_WIDTH``,
  ``UPSAMPLE``), which finds large faces anywhere, as before;
- the **fine pass** at the scale ``min_face_px`` needs, on crops only: the
  regions where capture saw motion, the predicted boxes of tracked faces,
  and one tile of a sweep that covers the frame tile by tile, one tile per
  analysed frame. Crops are widened by a margin so a face at a crop's edge is
  whole in it, overlapping crops are merged, and their searched area is
  capped at :data:`FINE_BUDGET_PIXELS` (tracked faces first, then the sweep
  tile, then motion, largest first): the cost per frame is bounded whatever
  moves.

Pure geometry, no image work, so it is tested on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.boxes import NormBox, PixelBox

HOG_FACE_PX = 80
"""Smallest face dlib's HOG detector finds, in pixels of the image it searches (its window is 80x80)."""
MAX_UPSAMPLE = 2
"""At most this many 2x upsamplings in the fine pass (each costs ~4x): faces under 20 px are never looked for."""
FINE_BUDGET_PIXELS = 3_500_000
"""Pixels the fine pass may search per frame (after its upsampling): ~0.3 s of one core on the test machine."""
SWEEP_TILE_SEARCHED = (960, 540)
"""Size (px) of one sweep tile as searched, whatever the source's resolution: about 45 ms of HOG."""
SWEEP_OVERLAP = 1 / 3
"""Neighbouring sweep tiles overlap by this fraction, so a face on a tile's edge is whole in the next one."""
COARSE_SURE = 1.25
"""A tracked face this many times the whole-frame pass's smallest face is left to that pass: it finds it anyway."""
TRACK_MARGIN = 0.5
"""A tracked face's predicted box is widened by this much of its size on each side: it moves between frames."""
MOTION_EVERYWHERE = 0.5
"""Motion boxes covering more than this fraction of the frame say nothing of where faces are (a pan, a cut)."""
ALREADY_SEARCHED = 0.7
"""A region this much inside crops already chosen is searched already (what moved is a tracked face)."""
MOTION_MARGIN_FACES = 1.0
"""A motion region is widened by this many smallest faces on each side: a head may stick out of what moved."""


@dataclass(frozen=True)
class FineScale:
    """How the fine pass searches: shrink the crop by ``factor`` (<= 1), then let HOG upsample ``upsample`` times."""

    factor: float
    upsample: int

    @property
    def magnification(self) -> float:
        """How many searched pixels one source pixel becomes, along each side."""
        return self.factor * 2**self.upsample

    def smallest_face(self) -> float:
        """The smallest face (source px) this search finds."""
        return HOG_FACE_PX / self.magnification


def detection_scale(width: int, scale: float, min_detect_width: int) -> float:
    """The whole-frame pass's shrink factor: ``scale``, but never below the minimum width."""
    if width <= 0:
        raise ValueError("width must be positive")
    return min(1.0, max(scale, min_detect_width / width))


AUTO_MIN_FACE_PX = 40
"""MIN_FACE_PX=auto looks for faces down to this size on large frames."""
AUTO_FROM_HEIGHT = 720
"""MIN_FACE_PX=auto searches for small faces on frames at least this tall: a camera on a wall. A smaller frame's
faces are near (a webcam, a stage clip), and finding its few far ones costs more than the whole frame's pass:
measured 2.7x fewer frames analysed on the shared 640x360 stage clip."""


def smallest_face_wanted(setting: int | str, height: int) -> int:
    """The MIN_FACE_PX in force for a frame this tall (0: no small-face search)."""
    if setting == "auto":
        return AUTO_MIN_FACE_PX if height >= AUTO_FROM_HEIGHT else 0
    return int(setting)


def fine_scale(min_face_px: int) -> FineScale:
    """The search that finds faces down to ``min_face_px`` tall at the least cost."""
    needed = HOG_FACE_PX / max(1, min_face_px)
    upsample = min(MAX_UPSAMPLE, max(0, math.ceil(math.log2(needed)))) if needed > 1 else 0
    return FineScale(min(1.0, needed / 2**upsample), upsample)


def coarse_smallest_face(coarse_factor: float, coarse_upsample: int) -> float:
    """The smallest face (source px) the whole-frame pass finds."""
    return HOG_FACE_PX / (coarse_factor * 2**coarse_upsample)


def fine_pass_needed(min_face_px: int, coarse_factor: float, coarse_upsample: int) -> bool:
    """Whether the whole-frame pass misses faces of ``min_face_px`` (so small a frame needs no fine pass)."""
    return min_face_px > 0 and coarse_smallest_face(coarse_factor, coarse_upsample) > min_face_px


def sweep_tile(index: int, width: int, height: int, min_face_px: int) -> NormBox:
    """The ``index``-th tile of the sweep (it wraps around), as a normalised box of the frame.

    Tiles are sized so each costs the same to search whatever the resolution
    (:data:`SWEEP_TILE_SEARCHED`): a 1080p frame at 40 px is 30 tiles, a 4K
    frame more, so a larger frame is swept more slowly, never at a higher cost
    per frame.
    """
    tile_w, tile_h = _tile_size(width, height, min_face_px)
    columns = _starts(width, tile_w)
    rows = _starts(height, tile_h)
    row, column = divmod(index % (len(columns) * len(rows)), len(columns))
    return (columns[column] / width, rows[row] / height, tile_w / width, tile_h / height)


def _tile_size(width: int, height: int, min_face_px: int) -> tuple[int, int]:
    """A sweep tile's size in source pixels: :data:`SWEEP_TILE_SEARCHED` once magnified for the fine pass."""
    magnification = fine_scale(min_face_px).magnification
    return (
        min(width, max(1, round(SWEEP_TILE_SEARCHED[0] / magnification))),
        min(height, max(1, round(SWEEP_TILE_SEARCHED[1] / magnification))),
    )


def _starts(length: int, tile: int) -> list[int]:
    """Where tiles of ``tile`` px start along ``length`` px, overlapping, the last one flush with the end."""
    if tile >= length:
        return [0]
    step = max(1, round(tile * (1 - SWEEP_OVERLAP)))
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


def _to_pixels(box: NormBox, width: int, height: int) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return (x * width, y * height, (x + w) * width, (y + h) * height)


def _widen(rect: tuple[float, float, float, float], margin_x: float, margin_y: float) -> tuple[float, ...]:
    left, top, right, bottom = rect
    return (left - margin_x, top - margin_y, right + margin_x, bottom + margin_y)


def _clip(rect: tuple[float, ...], width: int, height: int) -> PixelBox | None:
    left, top, right, bottom = rect
    clipped = (max(0, int(top)), min(width, math.ceil(right)), min(height, math.ceil(bottom)), max(0, int(left)))
    return clipped if clipped[2] > clipped[0] and clipped[1] > clipped[3] else None


def _overlap(a: PixelBox, b: PixelBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[3] < b[1] and b[3] < a[1]


def _union(a: PixelBox, b: PixelBox) -> PixelBox:
    return (min(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))


def merge_overlapping(crops: list[PixelBox]) -> list[PixelBox]:
    """Crops that overlap become their bounding box, until none overlap: a face is searched once, whole."""
    merged = list(crops)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                if _overlap(merged[i], merged[j]):
                    merged[i] = _union(merged[i], merged.pop(j))
                    changed = True
                    break
            if changed:
                break
    return merged


def _area(box: PixelBox) -> int:
    top, right, bottom, left = box
    return (bottom - top) * (right - left)


def _covered(box: PixelBox, others: list[PixelBox]) -> int:
    """Pixels of ``box`` inside ``others`` (which do not overlap each other: they were merged)."""
    return sum(
        max(0, min(box[2], other[2]) - max(box[0], other[0])) * max(0, min(box[1], other[1]) - max(box[3], other[3]))
        for other in others
    )


def fine_crops(
    width: int,
    height: int,
    min_face_px: int,
    tracked: list[NormBox],
    sweep: NormBox | None,
    motion: list[NormBox],
    coarse_face_px: float = math.inf,
) -> list[PixelBox]:
    """The crops (source pixels) the fine pass searches this frame, within :data:`FINE_BUDGET_PIXELS`.

    Priority: tracked faces (they are known to be there), then the sweep tile
    (the guarantee that every still face is found in time), then motion,
    largest region first, unless it is everywhere (:data:`MOTION_EVERYWHERE`)
    or mostly searched already (a tracked face that moves).
    A tracked face large enough for the whole-frame pass (``coarse_face_px``,
    its smallest face) needs no crop. A crop that does not fit the budget is left out;
    motion persists, so it is searched on a later frame.
    """
    scale = fine_scale(min_face_px)
    motion_margin = MOTION_MARGIN_FACES * min_face_px
    wanted: list[tuple[int, PixelBox, PixelBox]] = []  # priority, crop, what must be searched (for motion: what moved)
    for box in tracked:
        if box[3] * height >= COARSE_SURE * coarse_face_px:
            continue
        rect = _to_pixels(box, width, height)
        widened = _widen(rect, TRACK_MARGIN * (rect[2] - rect[0]), TRACK_MARGIN * (rect[3] - rect[1]))
        if crop := _clip(widened, width, height):
            wanted.append((0, crop, crop))
    if sweep is not None and (crop := _clip(_to_pixels(sweep, width, height), width, height)):
        wanted.append((1, crop, crop))
    informative = sum(w * h for _, _, w, h in motion) <= MOTION_EVERYWHERE
    by_size = sorted(motion, key=lambda box: box[2] * box[3], reverse=True) if informative else []
    for box in by_size:
        rect = _to_pixels(box, width, height)
        moved, crop = _clip(rect, width, height), _clip(_widen(rect, motion_margin, motion_margin), width, height)
        if moved and crop:
            wanted.append((2, crop, moved))
    chosen: list[PixelBox] = []
    for _, crop, core in sorted(wanted, key=lambda item: item[0]):
        if _covered(core, chosen) >= ALREADY_SEARCHED * _area(core):
            continue
        candidate = merge_overlapping([*chosen, crop])
        if sum(_area(box) for box in candidate) * scale.magnification**2 <= FINE_BUDGET_PIXELS:
            chosen = candidate
    return chosen


def shifted(box: PixelBox, crop: PixelBox) -> PixelBox:
    """A box found in a crop, in pixels of the frame the crop was cut from."""
    top, right, bottom, left = box
    return (top + crop[0], right + crop[3], bottom + crop[0], left + crop[3])


def _contains_centre(outer: PixelBox, inner: PixelBox) -> bool:
    centre_y, centre_x = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= centre_y <= outer[2] and outer[3] <= centre_x <= outer[1]


def distinct_faces(boxes: list[PixelBox]) -> list[PixelBox]:
    """The boxes less those that are another one's face again (its centre inside a box kept before it).

    The same face is often found by both passes, or by two crops that touch;
    the earlier box wins, so callers list the more precise pass first.
    """
    kept: list[PixelBox] = []
    for box in boxes:
        if not any(_contains_centre(other, box) or _contains_centre(box, other) for other in kept):
            kept.append(box)
    return kept
