"""Visitor ids: how often a different stranger is given someone's id (merged), how often a returning one is not
recognised (split). Measured on LFW and on the clips, with the product's own rule and code.

Why it exists: a visitor id is a claim that two sightings are one person whom
nobody enrolled. The rule (``shared/faces/visitors.py``) and its threshold
``VISITOR_RATIO`` are chosen here, by the errors they make.

**LFW** (``../shared/data/lfw_dev``, every photo of every identity, none
enrolled: 1,429 photos with a face, of 880 people, 314 of whom have 2 or more):
each photo is one sighting with one encoding (faces found and encoded as
enrolment does, ``bench/face_data.py``), shown to a fresh ``VisitorIndex`` one
after the other in a random order (several orders, averaged); each is matched
with the visitors so far or becomes a new one, as the sightings service does.
A photo is a harder sighting than a real one: the service decides on up to 3
encodings of one appearance, and two LFW photos of one person are often years
apart. Per sighting:

* **new merged**: the person's first sighting was given an existing visitor's
  id (necessarily someone else's): a different stranger sharing an id, the
  error that must be rare;
* **returning found / split / merged**: a later sighting of someone already
  seen got one of their own ids / a new id / somebody else's.

Also: ids per person (of those seen 2+ times; 1 is ideal), visitors holding more
than one person, "new merged" by how many visitors were kept when it
happened (the more visitors, the more chances to merge), the threshold chosen
on half the people (by "new merged" <= 0.5 %) and measured on the other half,
and LFW's 600 verification pairs decided by the rule with one visitor.

**Clips**: the product's analyzer, tracker and the sightings service's own
bookkeeping and choice of frames (``services/sightings``: ``Book``,
``Samples.due``, ``encode_face``) run offline, nobody enrolled, every 2nd
frame (``EVERY_N``'s default): the Bill Clinton clip as camera ``door``, the
same clip mirrored as camera ``yard`` (another view of the same stranger), and
the hamilton clip as ``stage``, each cut into appearances of a few seconds
with a pause between them (each a sighting of a later moment of the clip);
every sighting with an encoding is then matched in order of time. Bill
Clinton's sightings should share one id; the hamilton clip's people (told
apart by its reference photos, for scoring only) should each have their own,
none of them his.

Results: see bench/README.md and docs/accuracy.md ("Visitors"). Run from the repository root::

    .venv/bin/python bench/visitors.py            # ~4 min (LFW encodings cached by bench/face_data.py)
    .venv/bin/python bench/visitors.py --quick    # 2 orders, 600 frames (20 s) per clip
    .venv/bin/python bench/visitors.py --no-clips

Prints tables and a final ``JSON {...}`` line. Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.face_data import DEFAULT_DATA, EncodingStore, default_cache_dir  # noqa: E402
from services.broker.tracker import CameraTracker  # noqa: E402
from services.infer.analyzer import CorruptFrame, analyze  # noqa: E402
from services.sightings.book import Appearance, Book  # noqa: E402
from services.sightings.encoder import encode_face  # noqa: E402
from services.sightings.visitors import Samples  # noqa: E402
from shared.bus import schema  # noqa: E402
from shared.config import DEFAULT_VISITOR_RATIO, Settings, load_config  # noqa: E402
from shared.faces.matcher import Gallery, load_background  # noqa: E402
from shared.faces.visitors import MAX_ENCODINGS, MAX_KEPT_PER_VISITOR, VisitorIndex  # noqa: E402
from shared.sightings.closing import close_after  # noqa: E402

RATIOS = (0.64, 0.66, 0.68, 0.70, 0.72, 0.74, 0.76, 0.78, 0.80)
ORDERS = 5
TARGET_NEW_MERGED = 0.5
"""% of new strangers given an old id that the cross-validated threshold may reach on the half it is chosen on."""
KEPT_BUCKETS = (0, 100, 300, 600, 10**9)
EVERY_N = 2
BILL_SEGMENT_S = 5.0
HAMILTON_SEGMENT_S = 3.0
"""The clips are cut into appearances this long (the hamilton clip is 9 s), each a sighting of its own."""
GAP_S = 10.0
COST_VISITORS = 1000
"""Visitors kept when the cost of one decision is measured, each with the most encodings a visitor keeps."""
ENCODE_MS: list[float] = []
"""How long each encoding of the clips took (decode and dlib), as the service's encoder thread spends it."""
"""Seconds nobody is seen between two appearances: longer than a sighting takes to close (5 s)."""


# --------------------------------------------------------------------------- LFW


@dataclass
class Photos:
    """Every lfw_dev photo with a face: its person and its encoding."""

    people: list[str]
    encodings: np.ndarray


def lfw_photos(data: Path) -> Photos:
    store = EncodingStore(default_cache_dir())
    people, encodings = [], []
    for folder in sorted(path for path in (data / "lfw_dev" / "images").iterdir() if path.is_dir()):
        for photo in sorted(folder.glob("*.jpg")):
            _, found = store.faces(photo, "centre")
            if len(found):
                people.append(folder.name)
                encodings.append(found[0])
    store.save()
    return Photos(people, np.asarray(encodings))


@dataclass
class Replay:
    """The outcome of one order of sightings."""

    outcomes: Counter = field(default_factory=Counter)
    new_merged_by_kept: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    ids_per_person: float = 0.0
    impure_visitors: int = 0
    visitors: int = 0
    visitors_seen_twice: int = 0


def replay(photos: Photos, order: np.ndarray, background: np.ndarray, ratio: float) -> Replay:
    """Show the sightings one by one to a fresh index, as the sightings service would; count what happens."""
    index = VisitorIndex(background, ratio=ratio)
    result = Replay()
    theirs: dict[str, set[int]] = defaultdict(set)
    members: dict[int, Counter] = defaultdict(Counter)
    for position in order:
        person = photos.people[position]
        encoding = photos.encodings[position][None, :]
        kept = len(index)
        match = index.decide(encoding)
        returning = person in theirs
        if match.visitor is None:
            visitor = len(members) + 1
            outcome = "split" if returning else "new_right"
        else:
            visitor = match.visitor
            outcome = ("found" if visitor in theirs[person] else "merged_returning") if returning else "new_merged"
        if not returning:
            bucket = next(low for low, high in zip(KEPT_BUCKETS, KEPT_BUCKETS[1:]) if low <= kept < high)
            result.new_merged_by_kept[bucket][0] += outcome == "new_merged"
            result.new_merged_by_kept[bucket][1] += 1
        result.outcomes[outcome] += 1
        index.add(visitor, encoding)
        theirs[person].add(visitor)
        members[visitor][person] += 1
    twice = [person for person, count in Counter(photos.people).items() if count >= 2]
    result.ids_per_person = float(np.mean([len(theirs[person]) for person in twice]))
    result.visitors = len(members)
    result.visitors_seen_twice = sum(sum(counts.values()) >= 2 for counts in members.values())
    result.impure_visitors = sum(len(counts) > 1 for counts in members.values())
    return result


def rates(replays: list[Replay]) -> dict:
    """Percentages averaged over the orders."""
    total = Counter()
    for one in replays:
        total.update(one.outcomes)
    new = total["new_right"] + total["new_merged"]
    returning = total["found"] + total["split"] + total["merged_returning"]
    by_kept = {}
    for low, high in zip(KEPT_BUCKETS, KEPT_BUCKETS[1:]):
        merged = sum(one.new_merged_by_kept[low][0] for one in replays)
        count = sum(one.new_merged_by_kept[low][1] for one in replays)
        if count:
            label = f"{low}-{high - 1}" if high < 10**9 else f"{low}+"
            by_kept[label] = {"new_merged_pct": round(100.0 * merged / count, 2), "new_sightings": count}
    return {
        "new_merged_pct": round(100.0 * total["new_merged"] / max(1, new), 2),
        "returning_found_pct": round(100.0 * total["found"] / max(1, returning), 1),
        "returning_split_pct": round(100.0 * total["split"] / max(1, returning), 1),
        "returning_merged_pct": round(100.0 * total["merged_returning"] / max(1, returning), 2),
        "ids_per_person": round(float(np.mean([one.ids_per_person for one in replays])), 2),
        "impure_visitors_pct": round(
            100.0
            * sum(one.impure_visitors for one in replays)
            / max(1, sum(one.visitors_seen_twice for one in replays)),
            2,
        ),
        "visitors": round(float(np.mean([one.visitors for one in replays])), 1),
        "new_merged_by_visitors_kept": by_kept,
        "sightings": {"new": new // len(replays), "returning": returning // len(replays)},
    }


def orders_of(count: int, orders: int) -> list[np.ndarray]:
    generator = np.random.default_rng(13)
    return [generator.permutation(count) for _ in range(orders)]


def subset(photos: Photos, people: set[str]) -> Photos:
    keep = [i for i, person in enumerate(photos.people) if person in people]
    return Photos([photos.people[i] for i in keep], photos.encodings[keep])


def curve(photos: Photos, background: np.ndarray, orders: int) -> dict[float, dict]:
    return {
        ratio: rates([replay(photos, order, background, ratio) for order in orders_of(len(photos.people), orders)])
        for ratio in RATIOS
    }


def cross_validate(photos: Photos, background: np.ndarray, orders: int) -> list[dict]:
    """The threshold chosen on one half of the people (the largest with new merged <= the target), measured on
    the other half; both ways."""
    people = sorted(set(photos.people))
    np.random.default_rng(7).shuffle(people)
    halves = [set(people[::2]), set(people[1::2])]
    folds = []
    for chosen_on, measured_on in (halves, halves[::-1]):
        fitted = curve(subset(photos, chosen_on), background, orders)
        passing = [ratio for ratio, row in fitted.items() if row["new_merged_pct"] <= TARGET_NEW_MERGED]
        ratio = max(passing) if passing else min(RATIOS)
        tested = subset(photos, measured_on)
        measured = rates([replay(tested, order, background, ratio) for order in orders_of(len(tested.people), orders)])
        folds.append({"ratio": ratio, **{k: v for k, v in measured.items() if k.endswith("pct")}})
    return folds


def verification_pairs(data: Path, background: np.ndarray, ratio: float) -> dict:
    """LFW's pairs: is the second photo taken for the visitor of the first (the only one kept)?"""
    store = EncodingStore(default_cache_dir())
    images = data / "lfw_dev" / "images"

    def encoding(person: str, number: str) -> np.ndarray | None:
        _, found = store.faces(images / person / f"{person}_{int(number):04d}.jpg", "centre")
        return found[0] if len(found) else None

    matched = {"same": [], "different": []}
    for line in (data / "lfw_dev" / "pairs.txt").read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 3:
            kind, first, second = "same", encoding(parts[0], parts[1]), encoding(parts[0], parts[2])
        elif len(parts) == 4:
            kind, first, second = "different", encoding(parts[0], parts[1]), encoding(parts[2], parts[3])
        else:
            continue
        if first is None or second is None:
            continue
        index = VisitorIndex(background, ratio=ratio)
        index.add(1, first[None, :])
        matched[kind].append(index.decide(second[None, :]).visitor == 1)
    return {
        "same_pairs": len(matched["same"]),
        "same_matched_pct": round(100.0 * float(np.mean(matched["same"])), 1),
        "different_pairs": len(matched["different"]),
        "different_matched_pct": round(100.0 * float(np.mean(matched["different"])), 2),
    }


# --------------------------------------------------------------------------- clips


@dataclass
class ClipSighting:
    """One appearance on a camera, as the sightings service would close it, with the encodings it made."""

    camera: str
    track_id: int
    start: float
    frames: int
    encodings: list[np.ndarray]
    """Those a visitor is decided on: none when there were too few (Samples.enough)."""
    made: int


def clip_frames(
    path: Path, limit: int | None, mirror: bool, segment_s: float
) -> Iterator[tuple[int, float, bytes, int, int]]:
    """(frame id, capture time, JPEG, width, height) of every EVERY_N-th frame, JPEG quality 80 as capture sends;
    after every ``segment_s`` of the clip the camera's clock jumps by :data:`GAP_S` (the person walked off and came
    back: a new sighting, of a later moment of the clip)."""
    video = cv2.VideoCapture(str(path))
    fps = video.get(cv2.CAP_PROP_FPS) or 30.0
    index = 0
    while limit is None or index < limit:
        ok, frame = video.read()
        if not ok:
            break
        if index % EVERY_N == 0:
            if mirror:
                frame = cv2.flip(frame, 1)
            jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
            seconds = index / fps
            yield index, seconds + GAP_S * (seconds // segment_s), jpeg, frame.shape[1], frame.shape[0]
        index += 1
    video.release()


def clip_sightings(camera: str, frames: Iterator, settings: Settings) -> list[ClipSighting]:
    """The sightings of one camera, replayed through the analyzer, the tracker and the service's bookkeeping."""
    nobody = Gallery([], np.zeros((0, 128)))
    tracker = CameraTracker(settings.reencode_s, settings.track_max_age_s, settings.track_iou)
    book = Book(close_after(settings.track_max_age_s))
    samples: dict[int, Samples] = {}
    closed: list[Appearance] = []
    for frame_id, capture_ts, jpeg, width, height in frames:
        try:
            analysis = analyze(jpeg, nobody, settings, tracker.hints(capture_ts))
        except CorruptFrame:
            continue
        faces = tracker.update(analysis.detections, capture_ts)
        result = schema.Result(
            camera=camera,
            frame_id=frame_id,
            capture_ts=capture_ts,
            worker="bench",
            width=width,
            height=height,
            faces=faces,
            timings=schema.Timings(),
            published_ts=capture_ts,
        )
        for seen in book.observe(result, heard=capture_ts):
            plan = samples.setdefault(seen.appearance.track_id, Samples(seen.appearance))
            if seen.appearance.name == schema.UNKNOWN and plan.due(capture_ts, seen.box[2] * width):
                plan.asked += 1
                plan.last_asked_ts = capture_ts
                began = time.perf_counter()
                encoding = encode_face(jpeg, seen.box)
                ENCODE_MS.append(1000.0 * (time.perf_counter() - began))
                if encoding is not None:
                    plan.encodings.append(encoding)
        closed += book.expire(capture_ts)
    closed += book.close_all()
    return [
        ClipSighting(
            camera,
            a.track_id,
            a.start,
            a.frames,
            samples[a.track_id].encodings[:MAX_ENCODINGS] if samples[a.track_id].enough() else [],
            len(samples[a.track_id].encodings),
        )
        for a in closed
    ]


def hamilton_people(data: Path) -> Gallery:
    """The hamilton clip's reference people: only to tell its faces apart when scoring."""
    from shared.faces.photo import encode_photo, read_rgb

    names, encodings = [], []
    for folder in sorted((data / "video_hamilton" / "reference").iterdir()):
        for photo in sorted(folder.iterdir()):
            outcome = encode_photo(read_rgb(photo.read_bytes()))
            if outcome.encoding is not None:
                names.append(folder.name)
                encodings.append(outcome.encoding)
    return Gallery(names, np.asarray(encodings))


def clips(data: Path, background: np.ndarray, ratio: float, limit: int | None) -> dict:
    os.environ.setdefault("CONFIG_FILE", "/nonexistent/facestream.toml")
    settings = load_config(source="none")
    bill = data / "video_bill_clinton" / "Bill_Clinton.avi"
    hamilton = data / "video_hamilton" / "short_hamilton_clip.mp4"
    started = time.perf_counter()
    sightings = (
        clip_sightings("door", clip_frames(bill, limit, False, BILL_SEGMENT_S), settings)
        + clip_sightings("yard", clip_frames(bill, limit, True, BILL_SEGMENT_S), settings)
        + clip_sightings("stage", clip_frames(hamilton, limit, False, HAMILTON_SEGMENT_S), settings)
    )
    encoded = sorted((sighting for sighting in sightings if sighting.encodings), key=lambda s: (s.start, s.camera))
    people = hamilton_people(data)
    index = VisitorIndex(background, ratio=ratio)
    rows = []
    scores: dict[str, list[float]] = {"joined": [], "new": []}
    for sighting in encoded:
        encodings = np.stack(sighting.encodings)
        match = index.decide(encodings)
        if match.score is not None:
            scores["new" if match.visitor is None else "joined"].append(match.score)
        visitor = match.visitor if match.visitor is not None else len(rows) + 1000
        index.add(visitor, encodings)
        if sighting.camera == "stage":
            names = [m.name for m in people.match(encodings, settings.tolerance)]
            truth = Counter(names).most_common(1)[0][0]
        else:
            truth = "Bill_Clinton"
        rows.append({"camera": sighting.camera, "truth": truth, "visitor": visitor, "encodings": len(encodings)})
    bill_ids = Counter(row["visitor"] for row in rows if row["truth"] == "Bill_Clinton")
    by_person: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        by_person[row["truth"]][row["visitor"]] += 1
    owners: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        owners[row["visitor"]].add(row["truth"])
    return {
        "sightings": len(sightings),
        "with_encodings": sum(1 for sighting in sightings if sighting.made),
        "with_a_visitor": len(encoded),
        "scores_joined": [round(score, 3) for score in sorted(scores["joined"])],
        "scores_new": [round(score, 3) for score in sorted(scores["new"])],
        "encodings_per_sighting": round(float(np.mean([len(s.encodings) for s in encoded])), 2) if encoded else 0,
        "bill_sightings": {camera: sum(1 for r in rows if r["camera"] == camera) for camera in ("door", "yard")},
        "bill_ids": len(bill_ids),
        "bill_on_main_id_pct": round(100.0 * bill_ids.most_common(1)[0][1] / max(1, sum(bill_ids.values())), 1)
        if bill_ids
        else 0.0,
        "stage_people": {person: dict(ids) for person, ids in by_person.items() if person != "Bill_Clinton"},
        "ids_shared_by_people": sum(len(who) > 1 for who in owners.values()),
        "encode_ms_p50": round(float(np.median(ENCODE_MS)), 1) if ENCODE_MS else None,
        "stage_sightings_with_a_bill_id": sum(
            1 for r in rows if r["camera"] == "stage" and r["visitor"] in bill_ids and r["truth"] != "Bill_Clinton"
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }


def decision_cost(photos: Photos, background: np.ndarray) -> dict:
    """Milliseconds of one decision (3 encodings) against COST_VISITORS visitors of MAX_KEPT_PER_VISITOR encodings:
    a busy doorway's month. The encodings are LFW's, each repeated with a little noise."""
    generator = np.random.default_rng(3)
    index = VisitorIndex(background)
    for visitor in range(COST_VISITORS):
        base = photos.encodings[visitor % len(photos.encodings)]
        index.add(visitor, base + generator.normal(0.0, 0.01, (MAX_KEPT_PER_VISITOR, 128)))
    probes = photos.encodings[:3]
    index.decide(probes)  # the first call stacks the encodings
    timings = []
    for _ in range(20):
        began = time.perf_counter()
        index.decide(probes)
        timings.append(1000.0 * (time.perf_counter() - began))
    return {"visitors": len(index), "encodings": index.encodings, "decide_ms_p50": round(float(np.median(timings)), 2)}


MEMORY_PROBE = """
import json, time
from pathlib import Path
from services.sightings import service
from services.sightings.encoder import FaceEncoder
from shared.faces import facelib

def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss_mb()
encoder = FaceEncoder()
encoder.start()
while facelib.load.cache_info().currsize == 0 and encoder.unusable is None:
    time.sleep(0.05)
time.sleep(0.5)
print(json.dumps({"service_mb": round(before, 1), "with_encoder_mb": round(rss_mb(), 1)}))
"""


def encoder_memory() -> dict:
    """The sightings service's resident memory (its imports) before and after its encoder loads dlib's models,
    in a fresh process: what visitor ids cost in memory (VISITORS=false saves it)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def print_report(report: dict) -> None:
    lfw = report["lfw"]
    print(f"LFW: {lfw['photos']} photos of {lfw['people']} people, {lfw['orders']} orders; one photo per sighting")
    print(
        f"{'ratio':>6} {'new merged %':>13} {'ret. found %':>13} {'ret. split %':>13} {'ret. merged %':>14} "
        f"{'ids/person':>11} {'impure %':>9} {'visitors':>9}"
    )
    for ratio, row in lfw["curve"].items():
        mark = " <- default" if float(ratio) == report["ratio"] else ""
        print(
            f"{float(ratio):>6.2f} {row['new_merged_pct']:>13} {row['returning_found_pct']:>13} "
            f"{row['returning_split_pct']:>13} {row['returning_merged_pct']:>14} {row['ids_per_person']:>11} "
            f"{row['impure_visitors_pct']:>9} {row['visitors']:>9}{mark}"
        )
    print("\nnew merged % at the default, by visitors kept when the new stranger came:")
    for bucket, row in lfw["curve"][str(report["ratio"])]["new_merged_by_visitors_kept"].items():
        print(f"  {bucket:>9} visitors: {row['new_merged_pct']:>5} % of {row['new_sightings']}")
    print(f"\nthreshold chosen on half the people (new merged <= {TARGET_NEW_MERGED} %), measured on the other half:")
    for fold in lfw["cross_validated"]:
        print(
            f"  ratio {fold['ratio']}: new merged {fold['new_merged_pct']} %, returning found "
            f"{fold['returning_found_pct']} %, split {fold['returning_split_pct']} %"
        )
    pairs = lfw["pairs"]
    print(
        f"\npairs.txt at the default: same person matched {pairs['same_matched_pct']} % of {pairs['same_pairs']}, "
        f"different people matched {pairs['different_matched_pct']} % of {pairs['different_pairs']}"
    )
    cost = report["cost"]
    print(
        f"\none decision (3 encodings) against {cost['visitors']} visitors ({cost['encodings']} encodings): "
        f"{cost['decide_ms_p50']} ms"
    )
    memory = cost["memory"]
    print(
        f"sightings service resident memory: {memory['service_mb']} MB, {memory['with_encoder_mb']} MB once its "
        "encoder has loaded dlib's models"
    )
    if "clips" in report:
        c = report["clips"]
        print(
            f"\nclips ({c['seconds']} s): {c['sightings']} sightings, {c['with_encodings']} with encodings, "
            f"{c['with_a_visitor']} with enough for a visitor ({c['encodings_per_sighting']} encodings each)"
        )
        print(f"  scores of those joined to a visitor: {c['scores_joined']}; of those made new: {c['scores_new']}")
        print(
            f"  Bill Clinton on door + yard (mirrored): {c['bill_sightings']} sightings, {c['bill_ids']} visitor ids, "
            f"{c['bill_on_main_id_pct']} % on the main one"
        )
        print(f"  hamilton clip people -> visitor ids (sightings): {c['stage_people']}")
        print(
            f"  ids shared by different people: {c['ids_shared_by_people']}; hamilton sightings given Bill's id: "
            f"{c['stage_sightings_with_a_bill_id']}"
        )
        print(f"  one encoding (JPEG decode and dlib, 480x360 and 640x360 frames): {c['encode_ms_p50']} ms (median)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="2 orders, 600 frames per clip")
    parser.add_argument("--no-clips", action="store_true", help="LFW only")
    parser.add_argument("--ratio", type=float, default=DEFAULT_VISITOR_RATIO, help="the threshold to detail")
    args = parser.parse_args(argv)
    if not (args.data / "lfw_dev" / "images").is_dir():
        print(f"visitors: skipped, test data not found at {args.data}")
        return 0
    orders = 2 if args.quick else ORDERS
    background = load_background()
    photos = lfw_photos(args.data)
    ratios = curve(photos, background, orders)
    if args.ratio not in ratios:
        ratios[args.ratio] = rates(
            [replay(photos, order, background, args.ratio) for order in orders_of(len(photos.people), orders)]
        )
    report: dict = {
        "bench": "visitors",
        "quick": args.quick,
        "ratio": args.ratio,
        "lfw": {
            "photos": len(photos.people),
            "people": len(set(photos.people)),
            "orders": orders,
            "curve": {str(ratio): row for ratio, row in sorted(ratios.items())},
            "cross_validated": cross_validate(photos, background, orders),
            "pairs": verification_pairs(args.data, background, args.ratio),
        },
        "cost": {**decision_cost(photos, background), "memory": encoder_memory()},
    }
    if not args.no_clips:
        report["clips"] = clips(args.data, background, args.ratio, 600 if args.quick else None)
    print_report(report)
    print("JSON " + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
