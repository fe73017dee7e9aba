"""Enrolling one photo of a person: the one flow the API, the page and the CLI all go through.

Check the file (real type by content, minimum size; a group photo becomes a
cut-out of its largest face), encode its face, put the encoding in the cache
*before* the photo lands in the folder (so a worker that reloads on the
folder change finds it there and encodes nothing), then store it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import Settings
from shared.faces.encoding_cache import remember
from shared.people.photos import prepare_enrolment
from shared.people.store import PeopleStore

ALREADY_ENROLLED = "already enrolled: this very photo is kept once"


@dataclass(frozen=True)
class EnrolledPhoto:
    """A photo now known: its id in the person's folder, and a warning for the sender (a cut-out), if any."""

    photo_id: str
    warning: str | None = None
    already: bool = False
    """This very photo was enrolled for the person before: nothing new was kept."""


def enrol_photo(settings: Settings, store: PeopleStore, name: str, data: bytes) -> EnrolledPhoto:
    """Check, encode, cache and store one photo of ``name``; BadPhoto says why a file cannot be used."""
    enrolment = prepare_enrolment(data, settings.upsample, settings.max_photo_megapixels)
    remember(settings.data_dir, settings.upsample, enrolment.data, enrolment.outcome)
    photo = store.add_photo(name, enrolment.data, enrolment.suffix)
    if not photo.new:
        return EnrolledPhoto(photo.id, ALREADY_ENROLLED, already=True)
    return EnrolledPhoto(photo.id, enrolment.warning)


def added_change(kept: Mapping[str, int]) -> str:
    """The words a batch of enrolments is announced with: 'added 2 photo(s) of Ada, 1 photo(s) of Bob'."""
    return "added " + ", ".join(f"{count} photo(s) of {name}" for name, count in kept.items())
