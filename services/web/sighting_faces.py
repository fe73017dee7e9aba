"""A sighting's best face crop, as bytes: what "this is not Ana" and "yes, that's Ana" take from a sighting.

One home for reading it (the negatives and the photos routes both use it):
the path comes from the sightings database and must stay under
DATA_DIR/sightings.
"""

from __future__ import annotations

from sqlalchemy import Engine

from shared.config import Settings
from shared.people.store import NotFound
from shared.sightings import store as sightings
from shared.sightings.database import images_dir, picture_path

NO_DATABASE = "the sightings database is not there yet: is the sightings service running?"


class SightingFaces:
    """The best face crop of a sighting, read from the sightings' pictures (the engine connects on first use)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine
        self.pictures = images_dir(settings).resolve()

    def crop(self, sighting_id: int) -> bytes:
        """The crop's JPEG bytes; NotFound when there is no such sighting or no crop of it is kept."""
        row = sightings.get(self.engine, sighting_id)
        if row is None:
            raise NotFound(f"no sighting {sighting_id}")
        path = picture_path(self.pictures, row.face_path)
        if path is None or not path.is_file():
            raise NotFound(f"sighting {sighting_id} has no face crop (none was cut, or retention deleted it)")
        return path.read_bytes()
