"""What a person's name may be: it becomes a folder name, so it must be safe as one.

Unicode letters are welcome (people are called Zoë, 李娜, Özil); path tricks,
control characters and names a file system treats specially are not.
"""

from __future__ import annotations

import re
import unicodedata

from shared.bus.schema import UNKNOWN

MAX_NAME_LENGTH = 64
_ALLOWED = re.compile(r"^[\w][\w .'\-]*$", re.UNICODE)
RESERVED = {UNKNOWN.casefold()}
"""'Unknown' is what the stream shows for strangers; a person of that name would be indistinguishable."""


class BadName(ValueError):
    """A name that cannot be a person's name; the message says why."""


def clean_name(raw: str) -> str:
    """The name as stored (NFC, trimmed), or BadName saying what is wrong with it."""
    if not isinstance(raw, str):
        raise BadName("the name must be text")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise BadName("the name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise BadName(f"the name is longer than {MAX_NAME_LENGTH} characters")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise BadName("the name must not contain '/' or '\\' or start with '.'")
    if not _ALLOWED.match(name):
        raise BadName("use letters, digits, spaces and . ' - _ only")
    if name.casefold() in RESERVED:
        raise BadName(f"{name!r} is reserved: it is what strangers are called")
    return name


def clean_photo_id(raw: str) -> str:
    """A photo id (its file name in the person's folder), refusing anything that is not a plain file name."""
    if not raw or "/" in raw or "\\" in raw or raw.startswith(".") or len(raw) > 255:
        raise BadName("not a photo id")
    return raw
