"""Sightings: who was seen, on which camera, from when to when; kept in a SQL database (issue 13).

The table is defined here (``tables``), not in the sightings service, so the
web reads the same rows without importing the service; the schema is made and
changed only by the Alembic migrations beside it (``migrations/``), which the
sightings service runs at its start.
"""
