"""A handful of named records kept as one JSON file: the accounts, the named API tokens.

Every change holds a file lock (threads and processes: the web and the
accounts CLI) and writes the whole file atomically with mode 0600; every read
is fresh, so two processes never disagree for long.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar


class Named(Protocol):
    """A record (a frozen dataclass) with a name, its key in the file."""

    @property
    def name(self) -> str: ...


Record = TypeVar("Record", bound=Named)


class JsonRecords(Generic[Record]):
    """The records of one file, by name, under ``section`` (e.g. {"accounts": [...]})."""

    def __init__(self, path: Path, section: str, record: type[Record]) -> None:
        self.path = path
        self.section = section
        self.record = record

    def read(self) -> dict[str, Record]:
        """Every record, by name; none if the file does not exist yet."""
        try:
            raw: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {entry["name"]: self.record(**entry) for entry in raw.get(self.section, [])}

    @contextmanager
    def changing(self) -> Iterator[dict[str, Record]]:
        """The records to change in place, under the lock; written back whole when the block ends without error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                records = self.read()
                yield records
                self._write(records)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, records: dict[str, Record]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}-")  # mode 0600
        with os.fdopen(handle, "w") as out:
            json.dump({self.section: [asdict(record) for record in records.values()]}, out, indent=1)  # type: ignore[call-overload]
        os.replace(temporary, self.path)
