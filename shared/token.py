"""The API token: from the API_TOKEN setting, or made once and kept in DATA_DIR/api-token.

Faces are biometric data, so the calls that change or export them need a
token from the first start, with nothing for the user to set up: the launcher
makes one, saves it readable by this user only, and prints it.
"""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile
from pathlib import Path

from shared.config import Settings

TOKEN_FILE = "api-token"
SESSION_KEY_FILE = "session-key"


def token_path(settings: Settings) -> Path:
    """Where a made token is kept."""
    return settings.data_dir / TOKEN_FILE


def api_token(settings: Settings) -> str:
    """The token to require: the setting if given, else the saved one, made now if there is none."""
    if settings.api_token:
        return settings.api_token
    return stored_secret(token_path(settings))


def session_key(settings: Settings) -> str:
    """The key that signs login cookies: made once, kept in DATA_DIR/session-key (a restart keeps everyone in)."""
    return stored_secret(settings.data_dir / SESSION_KEY_FILE, length=32)


def stored_secret(path: Path, length: int = 24) -> str:
    """The secret kept in ``path``, made now (readable by this user only) if there is none.

    Several processes may start at once: the file appears whole or not at all, and the first one made wins.
    """
    try:
        saved = path.read_text().strip()
    except FileNotFoundError:
        saved = ""
    if saved:
        return saved
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(length)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # mode 0600
    with os.fdopen(handle, "w") as out:
        out.write(secret + "\n")
    try:
        os.link(temporary, path)  # appears whole or not at all; fails if another process won the race
    except FileExistsError:
        secret = path.read_text().strip()
    finally:
        os.unlink(temporary)
    if len(secret) < 16:
        raise RuntimeError(f"{path} holds no usable secret; delete it to make a new one")
    return secret


def client_token(given: str | None, data_dir: Path | None) -> str | None:
    """The token a client sends: the one given, else API_TOKEN, else the one the launcher saved in DATA_DIR.

    Read without making one: a client must never invent a token the server does not know.
    """
    if given:
        return given.strip()
    if os.environ.get("API_TOKEN"):
        return os.environ["API_TOKEN"].strip()
    if data_dir is None:
        return None
    try:
        return (data_dir / TOKEN_FILE).read_text().strip() or None
    except OSError:
        return None


def token_matches(expected: str, presented: str) -> bool:
    """Whether a presented token is the expected one (compared in constant time)."""
    return hmac.compare_digest(presented.encode(), expected.encode())
