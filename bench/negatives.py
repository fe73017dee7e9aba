"""Does "this is not Ana" work? Negative examples measured on LFW, with the product's matcher.

Why it exists: the matcher's rule 6 (``shared/faces/matcher.py``: a face nearer
one of a person's negatives than their centroid is not them) claims two
things: a correction reaches the *other* faces of the same stranger (the next
frames of the same visitor, and other photos of them), and it costs the
corrected person none of their own faces. This measures both.

Protocol: ``bench/accuracy.py``'s (40 people of ``lfw_dev`` enrolled with 3
photos each; every other photo is a probe; faces found and encoded as
enrolment does). Then, one correction at a time:

* **strangers named**: every stranger photo the matcher names (at the default
  ratio) becomes a negative of the person it was given to, alone;
* **look-alikes**: every stranger photo that *leans* to someone (within the
  looser per-frame limit a track keeps a name with, 0.85: the faces that keep a
  track named, or that a looser ``NAME_RATIO`` or a person with one photo
  would name) becomes a negative of that person, alone.

For each correction: the stranger's **near-duplicates** (the same photo
mirrored, shifted, lighter, darker, blurred, recompressed, halved in size,
turned: what the next frames of the same visitor look like), and the
stranger's **other photos** (another day, another camera); before and after,
how many are named as / lean to the person. And the person's **own photos**
(all their probes, and their enrolled photos): how many are named before and
after (the loss, which must stay near zero). Last, **all at once**: the
first photo named of each stranger the matcher names is a negative, all
together, and the whole protocol is scored again without those photos. The ``NEGATIVE_RATIO`` curve shows why 1.0.

Run from the repository root::

    .venv/bin/python bench/negatives.py           # ~1 min the first time (encoding the variants), ~15 s after
    .venv/bin/python bench/negatives.py --quick   # 3 variants per photo

Ends with one line ``JSON {...}``. Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.face_data import DEFAULT_DATA, EncodingStore, Protocol, default_cache_dir, lfw_protocol  # noqa: E402
from shared.bus.schema import UNKNOWN  # noqa: E402
from shared.faces import matcher  # noqa: E402
from shared.faces.matcher import Gallery, Match, pairwise_distances  # noqa: E402

TOLERANCE = 0.6
FACTORS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
"""NEGATIVE_RATIO values compared (the shipped one among them)."""


def _turned(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, rotation, (width, height), borderMode=cv2.BORDER_REFLECT)


def _halved(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _shifted(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return cv2.resize(image[12:, 12:], (width, height), interpolation=cv2.INTER_LINEAR)


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mirrored": lambda image: image[:, ::-1],
    "lighter": lambda image: cv2.convertScaleAbs(image, alpha=1.3, beta=10),
    "darker": lambda image: cv2.convertScaleAbs(image, alpha=0.65, beta=0),
    "blurred": lambda image: cv2.GaussianBlur(image, (0, 0), 1.5),
    "halved": _halved,
    "shifted": _shifted,
    "turned": lambda image: _turned(image, 8.0),
    "recompressed": lambda image: image,  # written at JPEG quality 25 below
}
"""Near-duplicates of a photo: what the next frames of the same face on a camera look like."""
QUICK_VARIANTS = ("mirrored", "darker", "halved")


def variant_encodings(photo: Path, store: EncodingStore, folder: Path, kinds: tuple[str, ...]) -> np.ndarray:
    """Encodings of a photo's near-duplicates (written once as JPEGs under the cache folder, encoded via the store)."""
    image = cv2.imread(str(photo))
    found = []
    folder.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        path = folder / f"{photo.stem}-{kind}.jpg"
        if not path.is_file():
            quality = 25 if kind == "recompressed" else 95
            cv2.imwrite(str(path), np.ascontiguousarray(VARIANTS[kind](image)), [cv2.IMWRITE_JPEG_QUALITY, quality])
        _, encodings = store.faces(path, "centre")
        if len(encodings):
            found.append(encodings[0])
    return np.asarray(found).reshape(-1, 128)


@dataclass
class Correction:
    """One stranger photo given to a person, made a negative of that person."""

    index: int
    """The probe that becomes the negative."""
    person: int
    stranger: str
    photo: str


def names(gallery: Gallery, faces: np.ndarray) -> list[Match]:
    return gallery.match(faces, TOLERANCE) if len(faces) else []


def count(matches: list[Match], person: str, lean: bool = False) -> int:
    """How many of these answers give the face to ``person`` (named, or with ``lean`` leaning to them)."""
    return sum((match.leaning if lean else match.name) == person for match in matches)


def measure(
    protocol: Protocol,
    base: Gallery,
    correction: Correction,
    variants: np.ndarray,
    lean: bool,
) -> dict:
    """Before and after one negative: the stranger's near-duplicates and other photos, the person's own photos."""
    faces = protocol.probe_encodings
    person = base.people[correction.person]
    corrected = Gallery(
        protocol.gallery_names,
        protocol.gallery_encodings,
        negatives={person: faces[correction.index][None, :]},
    )
    identity = np.asarray(protocol.probe_identity)
    others = faces[(identity == correction.stranger) & (np.arange(len(faces)) != correction.index)]
    own = faces[np.asarray([truth == person for truth in protocol.probe_truth])]
    enrolled = base.photos_of(correction.person)
    result = {"stranger": correction.stranger, "photo": correction.photo, "person": person, "others": len(others)}
    for key, group in (("duplicates", variants), ("others", others)):
        result[f"{key}_total"] = len(group)
        result[f"{key}_before"] = count(names(base, group), person, lean)
        result[f"{key}_after"] = count(names(corrected, group), person, lean)
    for key, group in (("own", own), ("enrolled", enrolled)):
        result[f"{key}_total"] = len(group)
        result[f"{key}_before"] = count(names(base, group), person)
        result[f"{key}_after"] = count(names(corrected, group), person)
    return result


def closeness(protocol: Protocol, base: Gallery, corrections: list[Correction]) -> dict[str, np.ndarray]:
    """Per (face, negative) pair: distance to the negative / distance to the person's centroid.

    ``others``: the stranger's other photos that were given to (or leant to) the person; ``own``: the
    person's own probes. A face is vetoed when its value is under NEGATIVE_RATIO.
    """
    faces = protocol.probe_encodings
    identity = np.asarray(protocol.probe_identity)
    matches = names(base, faces)
    values: dict[str, list[float]] = {"others": [], "own": []}
    for correction in corrections:
        person = base.people[correction.person]
        others = [
            index
            for index in np.where(identity == correction.stranger)[0]
            if index != correction.index and matches[index].leaning == person
        ]
        own = [index for index, truth in enumerate(protocol.probe_truth) if truth == person]
        for key, indices in (("others", others), ("own", own)):
            near = pairwise_distances(faces[indices], faces[correction.index][None, :])[:, 0]
            values[key].extend(near / np.linalg.norm(faces[indices] - base.centroids[correction.person], axis=1))
    return {key: np.asarray(found) for key, found in values.items()}


def totals(rows: list[dict]) -> dict[str, int]:
    """Sums of every count over the corrections."""
    keys = [key for key in rows[0] if key.endswith(("_total", "_before", "_after"))] if rows else []
    return {key: int(sum(row[key] for row in rows)) for key in keys}


def scored(gallery: Gallery, protocol: Protocol, left_out: set[int]) -> dict[str, float]:
    """Known right %, known wrong % and strangers named % over the protocol's probes, some left out."""
    keep = [index for index in range(len(protocol.probe_truth)) if index not in left_out]
    matches = names(gallery, protocol.probe_encodings[keep])
    truth = [protocol.probe_truth[index] for index in keep]
    known = [(match, who) for match, who in zip(matches, truth) if who is not None]
    strangers = [match for match, who in zip(matches, truth) if who is None]
    return {
        "known": len(known),
        "strangers": len(strangers),
        "known_right": round(100.0 * sum(match.name == who for match, who in known) / max(1, len(known)), 2),
        "known_wrong": round(
            100.0 * sum(match.name not in (UNKNOWN, who) for match, who in known) / max(1, len(known)), 2
        ),
        "strangers_named": round(100.0 * sum(match.name != UNKNOWN for match in strangers) / max(1, len(strangers)), 2),
    }


def evaluate(data: Path, cache: Path, quick: bool = False) -> dict:
    store = EncodingStore(cache)
    protocol = lfw_protocol(data, store)
    base = Gallery(protocol.gallery_names, protocol.gallery_encodings)
    faces = protocol.probe_encodings
    matches = names(base, faces)
    person_of = {name: index for index, name in enumerate(base.people)}
    strangers = [index for index, truth in enumerate(protocol.probe_truth) if truth is None]
    named = [
        Correction(i, person_of[matches[i].name], protocol.probe_identity[i], protocol.probe_paths[i])
        for i in strangers
        if matches[i].name != UNKNOWN
    ]
    leaning = [
        Correction(i, person_of[lean], protocol.probe_identity[i], protocol.probe_paths[i])
        for i in strangers
        if (lean := matches[i].leaning) is not None
    ]
    kinds = QUICK_VARIANTS if quick else tuple(VARIANTS)
    folder = cache / "negatives-variants"

    def variants_of(correction: Correction) -> np.ndarray:
        return variant_encodings(data / correction.photo, store, folder, kinds)

    named_rows = [measure(protocol, base, c, variants_of(c), lean=False) for c in named]
    leaning_rows = [measure(protocol, base, c, variants_of(c), lean=True) for c in leaning]
    store.save()

    first_of_each = list({c.stranger: c for c in reversed(named)}.values())
    everything = Gallery(
        protocol.gallery_names,
        protocol.gallery_encodings,
        negatives={
            base.people[person]: faces[[c.index for c in first_of_each if c.person == person]]
            for person in {c.person for c in first_of_each}
        },
    )
    left_out = {c.index for c in first_of_each}
    ratios = closeness(protocol, base, leaning)
    return {
        "protocol": {
            "people": len(base.people),
            "enrolled_photos": len(base),
            "probes": len(faces),
            "variants_per_photo": len(kinds),
            "negative_ratio": matcher.NEGATIVE_RATIO,
        },
        "strangers_named": {"corrections": named_rows, "totals": totals(named_rows)},
        "look_alikes": {"corrections": len(leaning_rows), "totals": totals(leaning_rows)},
        "all_at_once": {
            "negatives": len(first_of_each),
            "before": scored(base, protocol, left_out),
            "after": scored(everything, protocol, left_out),
        },
        "curve": [
            {
                "negative_ratio": factor,
                "others_stopped": int(np.sum(ratios["others"] < factor)),
                "others": len(ratios["others"]),
                "own_vetoed_pairs": int(np.sum(ratios["own"] < factor)),
                "own_pairs": len(ratios["own"]),
            }
            for factor in FACTORS
        ],
        "own_closest": round(float(ratios["own"].min()), 3) if len(ratios["own"]) else None,
    }


def _line(label: str, totals_: dict[str, int], key: str, lean: bool = False) -> str:
    verb = "lean to" if lean else "named as"
    return (
        f"  {label:34s} {totals_[key + '_total']:5d}   {verb} the person: "
        f"{totals_[key + '_before']:4d} before, {totals_[key + '_after']:4d} after"
    )


def print_report(report: dict) -> None:
    p = report["protocol"]
    print(
        f"lfw_dev: {p['people']} people, {p['enrolled_photos']} enrolled photos, {p['probes']} probes; "
        f"{p['variants_per_photo']} near-duplicates per corrected photo; NEGATIVE_RATIO {p['negative_ratio']}"
    )
    rows = report["strangers_named"]["corrections"]
    print(f"\n1. strangers the matcher names ({len(rows)}), each made a negative of that person alone:")
    print(f"  {'stranger photo':46s} {'given to':22s} {'dupl. before/after':>18s} {'others':>14s} {'own lost':>9s}")
    for row in rows:
        print(
            f"  {Path(row['photo']).name:46s} {row['person']:22s} "
            f"{row['duplicates_before']:>8d}/{row['duplicates_after']:<2d} of {row['duplicates_total']:<3d}"
            f"{row['others_before']:>6d}/{row['others_after']:<2d} of {row['others_total']:<2d}"
            f"{row['own_before'] - row['own_after']:>6d} of {row['own_before']}"
        )
    t = report["strangers_named"]["totals"]
    print("  totals:")
    for label, key in (
        ("the stranger's near-duplicates", "duplicates"),
        ("the stranger's other photos", "others"),
        ("the person's own photos", "own"),
        ("the person's enrolled photos", "enrolled"),
    ):
        print(_line(label, t, key))
    look = report["look_alikes"]
    t = look["totals"]
    print(f"\n2. look-alikes ({look['corrections']} stranger photos within a track's limit of someone), one at a time:")
    print(_line("the stranger's near-duplicates", t, "duplicates", lean=True))
    print(_line("the stranger's other photos", t, "others", lean=True))
    print(_line("the person's own photos", t, "own"))
    print(_line("the person's enrolled photos", t, "enrolled"))
    once = report["all_at_once"]
    print(
        f"\n3. all at once: the first photo named of each of {once['negatives']} strangers made a negative "
        "(those photos left out):"
    )
    print(f"  {'':8s} {'known right %':>14s} {'known wrong %':>14s} {'strangers named %':>18s}")
    for key in ("before", "after"):
        r = once[key]
        print(f"  {key:8s} {r['known_right']:14.2f} {r['known_wrong']:14.2f} {r['strangers_named']:18.2f}")
    print(f"  ({once['after']['known']} known probes, {once['after']['strangers']} stranger photos)")
    print("\n4. NEGATIVE_RATIO (look-alikes' other photos that leant to the person; the person's own photos):")
    print(f"  {'ratio':>6s} {'others stopped':>15s} {'own vetoed (pairs)':>19s}")
    for row in report["curve"]:
        print(
            f"  {row['negative_ratio']:6.2f} {row['others_stopped']:>8d} of {row['others']:<4d}"
            f"{row['own_vetoed_pairs']:>9d} of {row['own_pairs']}"
        )
    print(f"  an own photo is first vetoed at NEGATIVE_RATIO {report['own_closest']}")
    turned = {"strangers": 0, "own": 0}
    for section in ("strangers_named", "look_alikes"):
        t = report[section]["totals"]
        turned["strangers"] += sum(t[f"{key}_before"] - t[f"{key}_after"] for key in ("duplicates", "others"))
        turned["own"] += sum(t[f"{key}_before"] - t[f"{key}_after"] for key in ("own", "enrolled"))
    print(
        f"\nfaces a negative turned away from the person (1. and 2.): {turned['strangers']} of strangers, "
        f"{turned['own']} of the person (VETOED_CONFIDENCE is {matcher.VETOED_CONFIDENCE:g} %)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the data folder (default ../shared/data)")
    parser.add_argument("--cache", type=Path, default=default_cache_dir(), help="encoding cache (outside the repo)")
    parser.add_argument("--quick", action="store_true", help=f"{len(QUICK_VARIANTS)} near-duplicates per photo")
    args = parser.parse_args(argv)
    if not (args.data / "lfw_dev" / "identities.tsv").is_file():
        print(f"face data not found at {args.data / 'lfw_dev'}: nothing to measure (use --data PATH)")
        return 0
    report = evaluate(args.data, args.cache, quick=args.quick)
    print_report(report)
    print("JSON " + json.dumps(report, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
