"""Each photo's encoding (or why it was skipped), cached under DATA_DIR by content hash and detection settings.

A restart with hundreds of photos then takes seconds. Several workers starting
together take a file lock, so only one of them computes what is missing and
the others read its cache. An upload's outcome is put here before the photo
lands in the faces folder, so a worker reloading on the change encodes nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from shared.faces.photo import PhotoOutcome

log = logging.getLogger(__name__)

CACHE_VERSION = 1
DETECTION_SIGNATURE = "hog-u{upsample}-area"
"""Part of every key: an outcome is reused only under the detection that made it (photos shrunk by area)."""


def cache_folder(data_dir: Path) -> Path:
    """Where the encodings of known photos are cached (the web's /healthz watches it too)."""
    return data_dir / "cache"


class EncodingCache:
    """Photo outcomes keyed by content hash and settings, in one msgpack file."""

    def __init__(self, data_dir: Path, signature: str) -> None:
        self.folder = cache_folder(data_dir)
        self.path = self.folder / f"encodings-v{CACHE_VERSION}.msgpack"
        self.signature = signature
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False

    def load(self) -> None:
        """Read the cache file; a missing or damaged one just means starting empty."""
        try:
            entries = msgpack.unpackb(self.path.read_bytes(), raw=False)
            if not isinstance(entries, dict):
                raise ValueError("not a map")
            self.entries = entries
        except FileNotFoundError:
            self.entries = {}
        except Exception as error:
            log.warning("encoding cache %s is unreadable (%s); rebuilding it", self.path, error)
            self.entries = {}

    def key(self, data: bytes) -> str:
        """The cache key of a photo's bytes under the current settings."""
        return f"{content_digest(data)}:{self.signature}"

    def forget(self, digests: set[str]) -> int:
        """Drop every outcome of these photos (by content digest), under any settings; how many were dropped."""
        gone = [key for key in self.entries if key.partition(":")[0] in digests]
        for key in gone:
            del self.entries[key]
        self.dirty = self.dirty or bool(gone)
        return len(gone)

    def get(self, key: str) -> PhotoOutcome | None:
        """The cached outcome, if any."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        encoding = entry.get("encoding")
        return PhotoOutcome(
            entry["status"],
            np.frombuffer(encoding, dtype=np.float64).copy() if encoding else None,
            entry.get("faces", 0),
        )

    def put(self, key: str, outcome: PhotoOutcome) -> None:
        """Remember an outcome."""
        self.entries[key] = {
            "status": outcome.status,
            "faces": outcome.faces,
            "encoding": outcome.encoding.astype(np.float64).tobytes() if outcome.encoding is not None else None,
        }
        self.dirty = True

    def save(self) -> None:
        """Write the cache atomically (a reader never sees half a file); OSError if it cannot, leaving no temporary."""
        if not self.dirty:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".encodings-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(msgpack.packb(self.entries, use_bin_type=True))
            os.replace(temporary, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise
        self.dirty = False

    def save_or_warn(self) -> bool:
        """Save, or log why not (a full or read-only disk) and go on: the outcomes stay in memory."""
        try:
            self.save()
        except OSError as error:
            log.warning(
                "cannot write the encoding cache %s (%s); going on with the encodings in memory", self.path, error
            )
            return False
        return True

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache's file lock: one process builds, the others wait for its result.

        A cache folder that cannot hold the lock file (read-only, full) is
        logged and the block runs unlocked: at worst two processes encode
        the same photos, which is better than not starting.
        """
        lock_file = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.folder / "encodings.lock", "a+b")  # noqa: SIM115 (closed below)
        except OSError as error:
            log.warning("cannot lock the encoding cache in %s (%s); going on without the lock", self.folder, error)
        if lock_file is None:
            yield
            return
        with lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def drop_file(self) -> None:
        """Remove the whole cache file (needs no free space; everything is encoded again when next needed)."""
        with suppress(FileNotFoundError):
            self.path.unlink()
        self.entries = {}
        self.dirty = False


def content_digest(data: bytes) -> str:
    """The part of a cache key that names a photo's content."""
    return hashlib.sha256(data).hexdigest()


def cache_for(data_dir: Path, upsample: int) -> EncodingCache:
    """The cache of the outcomes made with this upsampling."""
    return EncodingCache(data_dir, signature=DETECTION_SIGNATURE.format(upsample=upsample))


def remember(data_dir: Path, upsample: int, data: bytes, outcome: PhotoOutcome) -> None:
    """Put a photo's outcome in the cache, so workers reloading the gallery need not encode it again.

    Only a saving: if the cache cannot be written, that is logged and the photo is encoded again when read.
    """
    cache = cache_for(data_dir, upsample)
    with cache.locked():
        cache.load()
        cache.put(cache.key(data), outcome)
        cache.save_or_warn()


@contextmanager
def forgetting(data_dir: Path, digests: set[str]) -> Iterator[None]:
    """Drop these photos' outcomes from the cache, then run the block (which deletes the photos) under its lock.

    Under the lock no worker can encode and cache the photos again between the
    two. A cache that cannot be rewritten (a full disk) is removed whole
    instead; one that cannot be removed either (read-only) raises OSError
    before anything is deleted, so nothing is forgotten only in part.
    """
    cache = EncodingCache(data_dir, signature="")
    with cache.locked():
        cache.load()
        if cache.forget(digests):
            try:
                cache.save()
            except OSError as error:
                log.warning("cannot rewrite the encoding cache %s (%s); removing it instead", cache.path, error)
                cache.drop_file()
        yield
