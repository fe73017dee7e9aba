"""What a person's name may be: it becomes a folder name, so it must be safe as one.

Letters of any script are welcome (Zoë, 李娜, अनुष्का, مُحَمَّد): a letter or
digit may carry combining marks (vowel signs, viramas, harakat), and the
zero-width joiners some scripts need are allowed inside a name. Path tricks,
control and other invisible characters, and names a file system treats
specially are not. Lengths are counted in what a reader sees as characters (a
letter with its marks counts once), and the name must also fit a file name
in bytes of UTF-8 with room for a photo's suffix.
"""

from __future__ import annotations

import unicodedata

from shared.bus.schema import UNKNOWN

MAX_NAME_LENGTH = 64
"""Characters as read: a base letter or digit with its combining marks counts once."""
MAX_NAME_BYTES = 200
"""A file name may be 255 bytes; ``<Name>.jpeg`` and the store's temporary names need some of them."""
MAX_PHOTO_ID_BYTES = 255
PUNCTUATION = set(" .'-_")
JOINERS = {"\u200c", "\u200d"}
"""Zero-width non-joiner and joiner: part of how Persian and Indic names are spelt."""
RESERVED = {UNKNOWN.casefold()}
"""'Unknown' is what the stream shows for strangers; a person of that name would be indistinguishable."""


class BadName(ValueError):
    """A name that cannot be a person's name; the message says why."""


def _base(char: str) -> bool:
    """A letter or a digit, of any script."""
    return unicodedata.category(char)[0] in "LN"


def _mark(char: str) -> bool:
    """A combining mark (vowel sign, virama, haraka, accent) or a joiner."""
    return unicodedata.category(char)[0] == "M" or char in JOINERS


def visible_length(name: str) -> int:
    """How many characters a reader sees: combining marks and joiners add none."""
    return sum(not _mark(char) for char in name)


def display_name(name: str) -> str:
    """A name as a person reads it: a folder called ``Ana_Guevara`` is Ana Guevara."""
    return name.replace("_", " ")


def clean_name(raw: str) -> str:
    """The name as stored (NFC, trimmed), or BadName saying what is wrong with it."""
    if not isinstance(raw, str):
        raise BadName("the name must be text")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise BadName("the name is empty")
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise BadName("the name must not contain '/' or '\\' or start with '.'")
    for char in name:
        if not (_base(char) or _mark(char) or char in PUNCTUATION):
            what = unicodedata.name(char, f"U+{ord(char):04X}")
            raise BadName(f"use letters of any script, digits, spaces and . ' - _ only (not {what})")
    if not (_base(name[0]) or name[0] == "_"):
        raise BadName("the name must start with a letter, a digit or '_'")
    if visible_length(name) > MAX_NAME_LENGTH:
        raise BadName(f"the name is longer than {MAX_NAME_LENGTH} characters")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise BadName(f"the name is longer than {MAX_NAME_BYTES} bytes of UTF-8")
    if name.casefold() in RESERVED:
        raise BadName(f"{name!r} is reserved: it is what strangers are called")
    return name


def clean_photo_id(raw: str) -> str:
    """A photo id (its file name in the person's folder), refusing anything that is not a plain file name."""
    if (
        not isinstance(raw, str)
        or not raw
        or "/" in raw
        or "\\" in raw
        or raw.startswith(".")
        or any(unicodedata.category(char) in ("Cc", "Cs") for char in raw)
    ):
        raise BadName("not a photo id")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_PHOTO_ID_BYTES:
        raise BadName(f"not a photo id: longer than {MAX_PHOTO_ID_BYTES} bytes")
    return raw
