"""Face boxes as the bus carries them, (x, y, w, h) normalised to 0..1, and matching them up.

Workers and the tracker both ask "which box of this frame is which box of
the last one?"; one answer here keeps them agreeing.
"""

from __future__ import annotations

Box = tuple[float, float, float, float]
"""x, y, width, height, as fractions of the frame's width and height."""


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes: 1 for the same box, 0 for boxes that do not touch."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    overlap = overlap_w * overlap_h
    return overlap / (aw * ah + bw * bh - overlap)


def associate(new: list[Box], old: list[Box], min_iou: float) -> list[tuple[int, int]]:
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


def moved(box: Box, motion: tuple[float, float], seconds: float) -> Box:
    """The box shifted by its motion (fractions of the frame per second) over ``seconds``."""
    x, y, w, h = box
    return (x + motion[0] * seconds, y + motion[1] * seconds, w, h)
