"""Sightings storage: how many sightings a second the store writes, and how much disk a camera-day takes.

Why it exists: the sightings service writes a row per appearance of a face and
keeps its pictures; whether one small machine keeps up with a busy doorway, and
how much disk ``RETAIN_DAYS`` of it fills, are answered here, on the product's
own code, not estimated.

A busy doorway: one appearance every ``--every`` seconds (20) for ``--hours``
a day (12): 2,160 sightings per camera-day. Each is written exactly as
``services/sightings/service.py`` writes it, through ``shared/sightings/store.py``
and ``services/sightings/images.py``: ``store.add`` when it appears; two better
faces (each cuts a crop from the frame and writes crop and snapshot with
``save_pictures``, then ``store.save`` of their paths); the once-a-second save
of its end, frames and confidence for ``--seconds-in-view`` (4) seconds; and
the save at its close. Half the appearances are strangers: each gets 3 face
encodings (float32 x 128) in its row, as a new visitor (``visitor_store.create``)
or as one seen before (``visitor_store.join``, one in two), and the service's
``seen_again`` on each save. The frames are real: taken from the clips in
``../shared/data`` (Bill Clinton's and the hamilton clip), encoded at the
capture's JPEG quality (``JPEG_QUALITY``, 80) at the clips' own size, the face
box found by dlib, so crop and snapshot have realistic sizes.

The appearances are written back to back, as fast as the store takes them,
timed (wall clock) on one thread: sightings per second, with and without the
pictures (the database's share is timed apart). Disk: the database's size after
a checkpoint (SQLite: the file, WAL in WAL mode, the default; PostgreSQL:
``pg_total_relation_size`` of both tables with their indexes) and the
pictures' bytes, per camera-day and kept for ``RETAIN_DAYS`` (30; strangers'
pictures only ``RETAIN_UNKNOWN_DAYS``, 7). PostgreSQL runs when
``tests/postgres.py`` can start a throwaway server (it runs with fsync off, so
its writes per second are an upper bound). Run from the repository root::

    .venv/bin/python bench/sightings.py            # one camera-day on each database (~1 min)
    .venv/bin/python bench/sightings.py --quick    # a quarter of a day, scaled

Prints tables and a final ``JSON {...}`` line. Exits 0 with a message when the data folder is absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import dlib
import numpy as np
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DATA, emit_json, fmt, missing_data, table  # noqa: E402
from services.sightings.images import save_pictures  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.faces.visitors import to_bytes  # noqa: E402
from shared.sightings import store, visitor_store  # noqa: E402
from shared.sightings.database import make_engine, upgrade  # noqa: E402

CLIPS = [DATA / "video_bill_clinton" / "Bill_Clinton.avi", DATA / "video_hamilton" / "short_hamilton_clip.mp4"]
SAMPLE_EVERY_FRAMES = 15
SAMPLES_PER_CLIP = 12
ENCODINGS_PER_STRANGER = 3
"""The sightings service encodes up to 3 faces of a stranger's sighting (services/sightings/visitors.py)."""
DAY = 86400.0
MB = 1e6


@dataclass(frozen=True)
class Sample:
    """One real frame as the capture publishes it, and its face's box (normalised x, y, w, h)."""

    jpeg: bytes
    box: tuple[float, float, float, float]
    size: tuple[int, int]


def samples(quality: int) -> list[Sample]:
    """Frames with a face from each clip, JPEG-encoded as the capture does."""
    detector = dlib.get_frontal_face_detector()
    found: list[Sample] = []
    for clip in CLIPS:
        video = cv2.VideoCapture(str(clip))
        index = kept = 0
        while kept < SAMPLES_PER_CLIP:
            ok, frame = video.read()
            if not ok:
                break
            index += 1
            if index % SAMPLE_EVERY_FRAMES:
                continue
            faces = detector(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 0)
            if not faces:
                continue
            height, width = frame.shape[:2]
            face = max(faces, key=lambda rect: rect.area())
            box = (face.left() / width, face.top() / height, face.width() / width, face.height() / height)
            ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                found.append(Sample(encoded.tobytes(), box, (width, height)))
                kept += 1
        video.release()
    return found


@dataclass
class Run:
    """What writing the appearances took."""

    appearances: int = 0
    strangers: int = 0
    transactions: int = 0
    seconds: float = 0.0
    database_seconds: float = 0.0
    picture_bytes: dict[str, int] = field(default_factory=lambda: {"named": 0, "stranger": 0})


def write_day(
    engine: Engine, pictures: Path, frames: list[Sample], count: int, every_s: float, in_view_s: int, day0: float
) -> Run:
    """Write ``count`` appearances as the sightings service does; timed."""
    run = Run()
    rng = np.random.default_rng(7)
    visitors: list[int] = []
    database = 0.0

    def timed(call, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal database
        began = time.perf_counter()
        result = call(*args, **kwargs)
        database += time.perf_counter() - began
        run.transactions += 1
        return result

    began = time.perf_counter()
    for number in range(count):
        start = day0 + number * every_s
        stranger = number % 2 == 1
        name = "Unknown" if stranger else "Ada"
        row = timed(store.add, engine, "door", number, name, start, 60.0)
        visitor = None
        if stranger:
            encodings = to_bytes(rng.standard_normal((ENCODINGS_PER_STRANGER, 128)).astype(np.float32))
            if visitors and number % 4 == 3:
                visitor = visitors[number % len(visitors)]
                timed(visitor_store.join, engine, row, visitor, encodings)
            else:
                visitor = timed(visitor_store.create, engine, row, encodings)
                visitors.append(visitor)
        for better in range(2):
            frame = frames[(number + better) % len(frames)]
            paths = save_pictures(pictures, row, start, frame.jpeg, frame.box)
            assert paths is not None, "a sample frame that does not decode"
            timed(store.save, engine, row, face_path=paths[0], snapshot_path=paths[1])
        for second in range(1, in_view_s + 1):
            timed(store.save, engine, row, end_ts=start + second, frames=second * 5, confidence=80.0)
            if visitor is not None:
                timed(visitor_store.seen_again, engine, visitor)
        timed(store.save, engine, row, end_ts=start + in_view_s, frames=in_view_s * 5, confidence=80.0)
        kind = "stranger" if stranger else "named"
        for path in pictures.glob(f"*/{row}-*.jpg"):
            run.picture_bytes[kind] += path.stat().st_size
        run.strangers += stranger
        run.appearances += 1
    run.seconds = time.perf_counter() - began
    run.database_seconds = database
    return run


def database_bytes(engine: Engine, url: str) -> int:
    """The database's size on disk once everything is written to its main file (SQLite) or its tables'
    and indexes' size (PostgreSQL)."""
    if url.startswith("sqlite"):
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(url.split("///", 1)[1])
        return sum(part.stat().st_size for part in path.parent.glob(path.name + "*"))
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT pg_total_relation_size('sightings') + pg_total_relation_size('visitors')"
            ).scalar_one()
        )


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL database's URL, or None (said why) when no server can be started."""
    try:
        from tests.postgres import fresh_database, postgres_server, why_not
    except ImportError as problem:
        print(f"PostgreSQL skipped: {problem}")
        yield None
        return
    reason = why_not()
    if reason:
        print(f"PostgreSQL skipped: {reason}")
        yield None
        return
    with postgres_server() as server:
        yield fresh_database(server)


def measure(url: str, folder: Path, frames: list[Sample], args: argparse.Namespace, count: int) -> dict:
    engine = make_engine(url)
    upgrade(engine)
    pictures = folder / "sightings"
    day0 = time.time() - 2 * DAY
    run = write_day(engine, pictures, frames, count, args.every, args.seconds_in_view, day0)
    size = database_bytes(engine, url)
    engine.dispose()
    days = count / (args.hours * 3600 / args.every)
    per_day_rows = size / days / MB
    per_day_named = run.picture_bytes["named"] / days / MB
    per_day_strangers = run.picture_bytes["stranger"] / days / MB
    return {
        "appearances": run.appearances,
        "camera_days": days,
        "sightings_per_s": run.appearances / run.seconds,
        "sightings_per_s_database_only": run.appearances / run.database_seconds,
        "transactions_per_s": run.transactions / run.database_seconds,
        "transactions_per_sighting": run.transactions / run.appearances,
        "database_mb_per_camera_day": per_day_rows,
        "pictures_mb_per_camera_day": per_day_named + per_day_strangers,
        "total_mb_per_camera_day": per_day_rows + per_day_named + per_day_strangers,
        "kept_mb_per_camera": per_day_rows * args.retain_days
        + per_day_named * args.retain_days
        + per_day_strangers * min(args.retain_unknown_days, args.retain_days),
        "bytes_per_row": size / run.appearances,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of a camera-day, scaled to a day")
    parser.add_argument("--every", type=float, default=20.0, help="seconds between appearances (20)")
    parser.add_argument("--hours", type=float, default=12.0, help="busy hours a day (12)")
    parser.add_argument("--seconds-in-view", type=int, default=4, help="how long each appearance lasts (4 s)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if missing_data("bench/sightings.py", *CLIPS):
        return 0
    defaults = Settings(source="none")
    args.retain_days, args.retain_unknown_days = defaults.retain_days, defaults.retain_unknown_days
    per_day = int(args.hours * 3600 / args.every)
    count = per_day // 4 if args.quick else per_day
    frames = samples(defaults.jpeg_quality)
    if not frames:
        print("bench/sightings.py: no face found in the clips' frames")
        return 1
    snapshots = [len(frame.jpeg) for frame in frames]
    width, height = frames[0].size
    print(
        f"{len(frames)} real frames (e.g. {width}x{height}), JPEG {defaults.jpeg_quality}: snapshot "
        f"{np.mean(snapshots) / 1000:.0f} kB on average; {per_day} appearances per camera-day "
        f"(one every {args.every:.0f} s for {args.hours:.0f} h), {args.seconds_in_view} s in view each, "
        f"half of them strangers; writing {count}"
    )
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sightings-") as scratch:
        folder = Path(scratch) / "sqlite"
        folder.mkdir()
        results["sqlite"] = measure(f"sqlite:///{folder / 'sightings.db'}", folder, frames, args, count)
        if not args.no_postgres:
            with postgres() as url:
                if url is not None:
                    folder = Path(scratch) / "postgresql"
                    folder.mkdir()
                    results["postgresql"] = measure(url, folder, frames, args, count)
    print()
    print(
        table(
            [
                "database",
                "sightings/s",
                "sightings/s (db only)",
                "commits/s",
                "commits/sighting",
                "bytes/row",
            ],
            [
                [
                    kind,
                    fmt(figures["sightings_per_s"], 0),
                    fmt(figures["sightings_per_s_database_only"], 0),
                    fmt(figures["transactions_per_s"], 0),
                    fmt(figures["transactions_per_sighting"], 1),
                    fmt(figures["bytes_per_row"], 0),
                ]
                for kind, figures in results.items()
            ],
        )
    )
    print()
    print(
        table(
            [
                "database",
                "rows MB/camera-day",
                "pictures MB/camera-day",
                "total MB/camera-day",
                f"kept MB/camera ({args.retain_days:.0f} d; strangers' pictures {args.retain_unknown_days:.0f} d)",
            ],
            [
                [
                    kind,
                    fmt(figures["database_mb_per_camera_day"], 2),
                    fmt(figures["pictures_mb_per_camera_day"], 1),
                    fmt(figures["total_mb_per_camera_day"], 1),
                    fmt(figures["kept_mb_per_camera"], 0),
                ]
                for kind, figures in results.items()
            ],
        )
    )
    needed = per_day / (args.hours * 3600)
    print(f"\nA busy doorway needs {needed:.3f} sightings/s per camera.")
    emit_json(
        {
            "bench": "sightings",
            "appearances_per_camera_day": per_day,
            "every_s": args.every,
            "hours": args.hours,
            "seconds_in_view": args.seconds_in_view,
            "snapshot_kb": float(np.mean(snapshots) / 1000),
            "frame_size": [width, height],
            "retain_days": args.retain_days,
            "retain_unknown_days": args.retain_unknown_days,
            "results": results,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
