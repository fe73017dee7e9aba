"""A throwaway PostgreSQL server for the storage tests: started in a temporary folder on a free port, or skipped.

Uses the machine's initdb and pg_ctl (on PATH, or Debian's /usr/lib/postgresql/*/bin; as root
``apt-get install -y postgresql`` gives them). As root the server runs as the ``postgres`` user
(``runuser``): PostgreSQL refuses to run as root. Bounded: every step has a timeout, and the
server is stopped (immediate mode) and its folder deleted whatever happens.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.harness import free_port_block

STEP_TIMEOUT_S = 60


def postgres_tools() -> tuple[str, str] | None:
    """initdb and pg_ctl, or None."""
    for folder in [None, *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        initdb, pg_ctl = shutil.which("initdb", path=folder), shutil.which("pg_ctl", path=folder)
        if initdb and pg_ctl:
            return initdb, pg_ctl
    return None


def why_not() -> str | None:
    """Why a PostgreSQL test cannot run here, or None when it can."""
    try:
        import psycopg  # noqa: F401  (the driver DATABASE_URL=postgresql+psycopg://... needs)
    except ImportError:
        return "psycopg is not installed (requirements.txt pins it)"
    if postgres_tools() is None:
        return "no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: PostgreSQL will not run as root"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; yields the SQLAlchemy URL of its 'postgres' database (trust auth, loopback only)."""
    tools = postgres_tools()
    assert tools is not None, why_not()
    initdb, pg_ctl = tools
    folder = Path(tempfile.mkdtemp(prefix="facestream-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = free_port_block(1)

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout[-400:]}{done.stderr[-400:]}")

    try:
        run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w", "-t", "30", "start")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if data.exists():
            subprocess.run(
                [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=30
            )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server; its URL."""
    from sqlalchemy import create_engine

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name
