"""Face boxes: one pixel type, one normalised type, a named converter each way, and matching them up.

dlib finds faces in pixels, as ``(top, right, bottom, left)``; the bus carries
them as ``(x, y, width, height)`` fractions of the frame, so a box means the
same on a frame of any size. Every conversion goes through
:func:`to_normalised` and :func:`to_pixels`, so no module does the arithmetic
its own way. Workers and the tracker both ask "which box of this frame is
which box of the last one?"; one answer here keeps them agreeing.
"""

from __future__ import annotations

PixelBox = tuple[int, int, int, int]
"""top, right, bottom, left, in pixels of one image: dlib's and face_recognition's order."""

NormBox = tuple[float, float, float, float]
"""x, y, width, height, as fractions of the frame's width and height: the bus's order."""


def to_normalised(box: PixelBox, width: int, height: int) -> NormBox:
    """The pixel box as fractions of a ``width`` x ``height`` image."""
    top, right, bottom, left = box
    return (left / width, top / height, (right - left) / width, (bottom - top) / height)


def to_pixels(box: NormBox, width: int, height: int) -> PixelBox:
    """The normalised box in pixels of a ``width`` x ``height`` image (truncated, like drawing needs)."""
    x, y, w, h = box
    return (int(y * height), int((x + w) * width), int((y + h) * height), int(x * width))


def scale_up(box: PixelBox, factor: float, width: int, height: int) -> PixelBox:
    """A box found on a copy shrunk by ``factor``, in pixels of the ``width`` x ``height`` original, kept inside it."""
    top, right, bottom, left = box
    return (
        max(0, int(top / factor)),
        min(width, int(right / factor)),
        min(height, int(bottom / factor)),
        max(0, int(left / factor)),
    )


def pixel_area(box: PixelBox) -> int:
    """How many pixels a box covers: the largest face of a photo is the one with the largest area."""
    top, right, bottom, left = box
    return max(0, bottom - top) * max(0, right - left)


def iou(a: NormBox, b: NormBox) -> float:
    """Intersection over union of two boxes: 1 for the same box, 0 for boxes that do not touch."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    overlap = overlap_w * overlap_h
    return overlap / (aw * ah + bw * bh - overlap)


def associate(new: list[NormBox], old: list[NormBox], min_iou: float) -> list[tuple[int, int]]:
    """Pairs (index in new, index in old) of boxes that are the same face, best overlaps first.

    Greedy on IoU: with the handful of faces a camera shows, it gives the same
    pairs as an optimal assignment at a fraction of the code.
    """
    candidates = sorted(
        ((iou(a, b), i, j) for i, a in enumerate(new) for j, b in enumerate(old)),
        reverse=True,
    )
    used_new: set[int] = set()
    used_old: set[int] = set()
    pairs = []
    for overlap, i, j in candidates:
        if overlap < min_iou:
            break
        if i in used_new or j in used_old:
            continue
        used_new.add(i)
        used_old.add(j)
        pairs.append((i, j))
    return pairs


def moved(box: NormBox, motion: tuple[float, float], seconds: float) -> NormBox:
    """The box shifted by its motion (fractions of the frame per second) over ``seconds``."""
    x, y, w, h = box
    return (x + motion[0] * seconds, y + motion[1] * seconds, w, h)
