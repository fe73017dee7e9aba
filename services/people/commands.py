"""The people CLI's commands: each takes the people (local folder or remote API) and the parsed arguments.

Exit codes: 0 done; 1 done in part (some files were skipped: the summary says
which and why); 2 nothing done: bad usage or input (a bad name, a missing
file, an unknown person, a refused token).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from services.people.backends import CliError, FileReport, People, read_file
from services.people.progress import Progress
from shared.people.enrol import added_change
from shared.people.layout import PHOTO_SUFFIXES

OK, PARTIAL, USAGE = 0, 1, 2

Item = tuple[str, str, "Path | bytes"]
"""One file to enrol: (person as given, label to report it by, the file or its bytes)."""


# ---------------------------------------------------------------- finding files


def files_in(path: Path) -> list[Path]:
    """A file as itself, a folder as its visible files (not recursive); a missing path is a usage error."""
    if path.is_dir():
        return sorted(entry for entry in path.iterdir() if entry.is_file() and not entry.name.startswith("."))
    if path.is_file():
        return [path]
    raise CliError(f"no such file or folder: {path}")


def dataset_items(root: Path) -> tuple[list[Item], list[FileReport]]:
    """Every photo of a dataset folder with its person, and the loose files that belong to nobody."""
    if not root.is_dir():
        raise CliError(f"not a folder: {root}")
    items: list[Item] = []
    strays: list[FileReport] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            items.extend((entry.name, str(path), path) for path in files_in(entry))
        elif entry.suffix.lower() in PHOTO_SUFFIXES:
            items.append((entry.stem, str(entry), entry))
        else:
            strays.append(
                FileReport(
                    str(entry),
                    kept=False,
                    reason="not in a person's folder (use DIR/<Name>/photo.jpg or DIR/<Name>.jpg)",
                )
            )
    return items, strays


# ---------------------------------------------------------------- enrolling


def enrol(people: People, items: list[Item]) -> list[tuple[str, FileReport]]:
    """Check and enrol every item, showing progress; (stored name, report) for each, in order.

    A person whose name is refused has all their files skipped with the
    validation message; an unreadable file is skipped; nothing stops the batch
    except a CliError from the server (a refused token, say).
    """
    names: dict[str, str | CliError] = {}
    for raw, _, _ in items:
        if raw not in names:
            try:
                names[raw] = people.check_name(raw)
            except CliError as problem:
                names[raw] = problem
    progress = Progress(len(items))
    results: list[tuple[str, FileReport]] = []
    try:
        for index, (raw, label, source) in enumerate(items, start=1):
            progress.working_on(index, label)
            name = names[raw]
            if isinstance(name, CliError):
                report = FileReport(label, kept=False, reason=str(name))
            else:
                report = enrol_one(people, name, label, source)
            results.append((raw if isinstance(name, CliError) else name, report))
            progress.finished(index, report)
    finally:
        progress.close()
        kept = Counter(name for name, report in results if report.kept)
        if kept:
            people.finish(added_change(kept))
    return results


def enrol_one(people: People, name: str, label: str, source: Path | bytes) -> FileReport:
    """One file's report."""
    try:
        data = source if isinstance(source, bytes) else read_file(source)
    except CliError as problem:
        return FileReport(label, kept=False, reason=str(problem))
    return people.add_photo(name, label, data)


def report_enrolment(results: list[tuple[str, FileReport]], as_json: bool, extra: Sequence[FileReport] = ()) -> int:
    """Print per-person counts, the skipped files and why, the warnings; the exit code."""
    reports = [report for _, report in results] + list(extra)
    skipped = [report for report in reports if not report.kept]
    if as_json:
        print(
            json.dumps(
                {
                    "kept": len(reports) - len(skipped),
                    "skipped": len(skipped),
                    "files": [dict(asdict(report), person=name) for name, report in results]
                    + [asdict(report) for report in extra],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return PARTIAL if skipped else OK
    per_person: dict[str, list[int]] = {}
    for name, report in results:
        counts = per_person.setdefault(name, [0, 0])
        counts[0 if report.kept else 1] += 1
    for name, (kept, missed) in per_person.items():
        print(f"{name}: {kept} photo(s) kept" + (f", {missed} skipped" if missed else ""))
    print(f"Kept {len(reports) - len(skipped)} of {len(reports)} file(s) for {len(per_person)} person(s).")
    if skipped:
        print(f"Skipped {len(skipped)}:")
        for report in skipped:
            print(f"  {report.file}: {report.reason}")
    warned = [report for report in reports if report.warning]
    if warned:
        print("Warnings:")
        for report in warned:
            print(f"  {report.file}: {report.warning}")
    return PARTIAL if skipped else OK


# ---------------------------------------------------------------- commands


def cmd_add(people: People, args: argparse.Namespace) -> int:
    """Enrol the given photos (and the photos in the given folders) of one person."""
    name = people.check_name(args.name)
    paths = [path for given in args.paths for path in files_in(Path(given))]
    if not paths:
        raise CliError("no files found in " + ", ".join(args.paths))
    return report_enrolment(enrol(people, [(name, str(path), path) for path in paths]), args.json)


def cmd_import(people: People, args: argparse.Namespace) -> int:
    """Enrol a dataset: one folder per person, named after them."""
    items, strays = dataset_items(Path(args.dir))
    if not items:
        raise CliError(f"no photos found in {args.dir} (expected {args.dir}/<Name>/photo.jpg)")
    return report_enrolment(enrol(people, items), args.json, strays)


def cmd_capture(people: People, args: argparse.Namespace) -> int:
    """Pick good, distinct frames of one person from a source, then enrol them like ``add``."""
    from services.people.capture_samples import CaptureFailed, CaptureRules, capture_samples
    from shared.faces.facelib import FaceLibraryError

    name = people.check_name(args.name)
    if args.count < 1:
        raise CliError("--count must be at least 1")
    rules = CaptureRules(
        count=args.count,
        min_sharpness=args.min_sharpness,
        min_distance=args.min_distance,
        min_gap_s=args.min_gap,
        timeout_s=args.timeout,
    )
    progress = Progress(args.count)
    try:
        result = capture_samples(
            args.source, rules, lambda tally: progress.status(f"capture: {tally.line(args.count)}", tally.kept)
        )
    except (CaptureFailed, FaceLibraryError) as problem:
        raise CliError(str(problem)) from None
    finally:
        progress.close()
    print(f"capture: {result.tally.line(args.count)}" + (f"; {result.stopped}" if result.stopped else ""))
    if not result.samples:
        print(f"No usable frame of {name} was found; nothing enrolled.")
        return PARTIAL
    code = report_enrolment(enrol(people, [(name, s.label, s.jpeg) for s in result.samples]), args.json)
    if len(result.samples) < args.count:
        print(f"Only {len(result.samples)} of the {args.count} samples asked for were found.")
        return PARTIAL
    return code


def cmd_list(people: People, args: argparse.Namespace) -> int:
    """Everyone known: name, photos, when added."""
    everyone = people.people()
    if args.json:
        print(
            json.dumps(
                [{"name": p.name, "photos": p.photos, "added": p.added} for p in everyone], ensure_ascii=False, indent=2
            )
        )
        return OK
    if not everyone:
        print("Nobody is known yet: python -m services.people add NAME PHOTO...")
        return OK
    width = max(len("NAME"), *(len(p.name) for p in everyone))
    print(f"{'NAME':<{width}}  PHOTOS  ADDED")
    for person in everyone:
        added = time.strftime("%Y-%m-%d %H:%M", time.localtime(person.added)) if person.added else "-"
        print(f"{person.name:<{width}}  {person.photos:>6}  {added}")
    print(f"{len(everyone)} person(s), {sum(p.photos for p in everyone)} photo(s)")
    return OK


def cmd_remove(people: People, args: argparse.Namespace) -> int:
    """Forget a person and every photo of theirs."""
    people.remove(args.name)
    print(f"Removed {args.name}.")
    return OK


def cmd_rename(people: People, args: argparse.Namespace) -> int:
    """Give a person another name."""
    new_name = people.rename(args.old, args.new)
    print(f"Renamed {args.old} to {new_name}.")
    return OK


def cmd_recognize(people: People, args: argparse.Namespace) -> int:
    """Name every face of a photo, with confidence and box."""
    found = people.recognize(read_file(Path(args.image)))
    if args.json:
        print(
            json.dumps(
                {"width": found.width, "height": found.height, "faces": [asdict(face) for face in found.faces]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return OK
    print(f"{args.image}: {found.width}x{found.height}, {len(found.faces)} face(s)")
    for face in found.faces:
        x, y, w, h = face.box
        distance = "" if face.distance is None else f"  distance {face.distance:.3f}"
        print(
            f"  {face.name}  {face.confidence:.1f}%{distance}  box x={x * found.width:.0f} "
            f"y={y * found.height:.0f} w={w * found.width:.0f} h={h * found.height:.0f} px"
        )
    return OK


COMMANDS: dict[str, Callable[[People, argparse.Namespace], int]] = {
    "add": cmd_add,
    "import": cmd_import,
    "capture": cmd_capture,
    "list": cmd_list,
    "remove": cmd_remove,
    "rename": cmd_rename,
    "recognize": cmd_recognize,
}
