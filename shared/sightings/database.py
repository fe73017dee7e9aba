"""Where the sightings live and how to open them: SQLite in WAL mode under DATA_DIR, or DATABASE_URL.

:func:`upgrade` brings a database to the newest schema with Alembic, called
programmatically (the sightings service does it at its start); nobody else
creates or changes tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from shared.config import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "sightings.db"
IMAGES_FOLDER = "sightings"
SQLITE_BUSY_MS = 5000
"""How long an SQLite connection waits for another's write to end: WAL lets readers go on beside the one writer,
but two writers (the service, and retention in the same process) still queue."""


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the SQLite file in DATA_DIR."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / SQLITE_FILE).resolve()}"


def images_dir(settings: Settings) -> Path:
    """The folder of the sightings' JPEGs (a folder per day inside)."""
    return settings.data_dir / IMAGES_FOLDER


def picture_path(pictures: Path, relative: str | None) -> Path | None:
    """Where a sighting's picture (a path the database holds, relative to ``pictures``, resolved) is; None when
    there is none or the path would lead outside the folder: a row never makes anything else read or deleted."""
    if not relative:
        return None
    path = (pictures / relative).resolve()
    return path if path.is_relative_to(pictures.resolve()) else None


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web) never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a power cut loses at most the last commits
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL mode and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    """Alembic's configuration, in code (no alembic.ini): our migrations, run on this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default); a no-op when it is there already."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` ('base': no table at all)."""
    command.downgrade(alembic_config(engine), revision)
