"""What a source URI names: a camera index, a video file or a stream URL.

The live capture and the people CLI's ``capture`` both open sources; one
reading of a URI keeps them agreeing on what is a file (which ends and is
paced by its own frame rate) and what is a camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceKind:
    """How a source URI is opened and paced."""

    target: int | str
    is_file: bool


def classify(uri: str) -> SourceKind:
    """Tell a camera index from a file from a stream URL."""
    text = uri.strip()
    if text.isdigit():
        return SourceKind(int(text), is_file=False)
    if "://" in text and not text.startswith("file://"):
        return SourceKind(text, is_file=False)
    path = text.removeprefix("file://")
    return SourceKind(str(Path(path).expanduser()), is_file=True)
