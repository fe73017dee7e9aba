"""Alembic's entry point: run the migrations on the engine the caller handed over (shared/sightings/database.py).

There is no alembic.ini and no logging set-up here: the service's logging
stays as it is. ``alembic revision`` from the command line needs a URL:
``alembic -x url=sqlite:///data/sightings.db ...`` is not wired; write a new
revision by hand from ``script.py.mako``.
"""

from __future__ import annotations

from alembic import context

from shared.sightings.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    )
    context.run_migrations()
