"""When a sighting is over for the sightings service: closed, its crop cut and its visitor decided.

Its one home, because two processes need it: the sightings service closes a
sighting after :func:`close_after`, and the web deletes only a sighting the
service will not write to again (:func:`settled`): deleting one still open
would have the service cut pictures for a row that is gone.
"""

from __future__ import annotations

CLOSE_AFTER_S = 5.0
"""A sighting closes once its track has not been in its camera's results for this long (s). The tracker drops a
track unseen for TRACK_MAX_AGE_S (1 s) and never reuses its id, so waiting longer merges nothing; but a camera's
results can be a second or two apart (a loaded pool analyses fewer frames, a face is missed on a few frames in a
row), and a leave followed by an appear of the same track would be a false alarm for anyone acting on them. The
closing time is this or TRACK_MAX_AGE_S plus 2 s, whichever is longer."""
SETTLING_S = 20.0
"""After closing, a stranger's sighting waits up to 5 s (CLOSE_WAIT_S) for its encodings before its visitor is
decided and written; 20 s covers that and a loaded machine's delays."""


def close_after(track_max_age_s: float) -> float:
    """The closing time for a tracker that keeps a track this long (TRACK_MAX_AGE_S)."""
    return max(CLOSE_AFTER_S, track_max_age_s + 2.0)


def settled_before(now: float, track_max_age_s: float) -> float:
    """The latest end time of a sighting the service is done with, now."""
    return now - (close_after(track_max_age_s) + SETTLING_S)


def settled(end_ts: float, now: float, track_max_age_s: float) -> bool:
    """Whether a sighting last seen at ``end_ts`` is done with: the service writes nothing to it any more."""
    return end_ts <= settled_before(now, track_max_age_s)
