"""The sightings service: remembers who was seen, on which camera, when (issue 13).

Subscribes to the bus's results and frames, keeps one row per appearance of a
tracked face in the sightings database (SQLite under DATA_DIR, or
DATABASE_URL; the schema is upgraded at start), saves the best face crop and
its frame under DATA_DIR/sightings/, publishes ``sightings.<camera>``
appear/named/leave messages, and deletes what is past RETAIN_DAYS.
"""

from __future__ import annotations

import sys

from services.sightings.service import serve
from shared.process import run_service

if __name__ == "__main__":
    sys.exit(run_service("sightings", serve))
