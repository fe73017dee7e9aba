"""Marking a face as not a person ("this is not Ana"): the one flow for an uploaded image and a sighting's crop.

The face is checked and encoded as an enrolled photo is (shared/people/photos.py),
its encoding cached before the file lands (so a worker reloading on the change
encodes nothing), then kept in the person's ``.not/`` folder by the store. The
matcher then stops naming that person for faces nearer this one than the
person (shared/faces/matcher.py, rule 6).

An upload must show one face: in a group photo, which face is "not Ana" would
be a guess. A sighting's crop was cut around one face, so if a neighbour's
face shows at its edge, the largest face (the one the crop was cut for) is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings
from shared.faces.encoding_cache import remember
from shared.people.names import clean_name, display_name
from shared.people.photos import BadPhoto, prepare_enrolment
from shared.people.store import PeopleStore


@dataclass(frozen=True)
class MarkedFace:
    """A face now kept as not the person: its id in their ``.not/`` folder, when, and whether it is new."""

    negative_id: str
    added: float
    new: bool
    warning: str | None = None


def mark_not(
    settings: Settings, store: PeopleStore, raw_name: str, data: bytes, largest_face: bool = False
) -> MarkedFace:
    """Keep the face in ``data`` as not ``raw_name``: BadPhoto says why an image cannot be used, NotFound that
    nobody has the name, Conflict that it is one of their own photos. ``largest_face``: a crop cut around one face
    (a sighting's), where a second face at the edge is a neighbour."""
    name = clean_name(raw_name)
    store.person(name)  # before any decoding: a negative belongs to someone enrolled
    prepared = prepare_enrolment(data, settings.upsample, settings.max_photo_megapixels)
    if prepared.faces_found > 1 and not largest_face:
        raise BadPhoto(
            f"{prepared.faces_found} faces found: send an image of the one face that is not {display_name(name)}"
        )
    remember(settings.data_dir, settings.upsample, prepared.data, prepared.outcome)
    kept = store.add_negative(name, prepared.data, prepared.suffix)
    warning = f"{prepared.faces_found} faces in the crop; the largest was kept" if prepared.faces_found > 1 else None
    return MarkedFace(kept.id, kept.added, kept.new, warning)
