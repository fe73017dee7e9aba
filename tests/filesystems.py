"""Real file systems for fault tests: a small tmpfs (or a bind mount) for a block, and filling one up.

Mounting needs root; a test that cannot mount is skipped, saying so (CI runs as root).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted(target: Path, *options: str) -> Iterator[None]:
    """A tmpfs (or a bind mount) at ``target`` for the block; skips the test if this machine cannot mount."""
    target.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a test file system here ({made.stderr.strip()}): needs root")
    try:
        yield
    finally:
        subprocess.run(["umount", str(target)], check=True)


def fill(folder: Path) -> None:
    """Write a hidden file until the file system is full."""
    handle = os.open(folder / ".filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(handle, bytes(4096)):
            pass
    except OSError:
        pass
    finally:
        os.close(handle)
