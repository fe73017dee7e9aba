"""Named API tokens with a scope: what an admin hands a program or a wall display instead of a password.

``view`` may watch the streams and read (as a viewer account), e.g. Home
Assistant showing ``/stream/<camera>.mjpg?token=...``; ``write`` may also change
people (as an admin). A token is shown once, when it is made; only its SHA-256
is kept (in DATA_DIR/api-tokens.json, mode 0600): a token is 32 random bytes,
so a fast hash is safe where a password would need a slow one. Each can be
revoked on its own.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from shared.accounts import AccountError, Role, check_name

Scope = Literal["view", "write"]
SCOPES: tuple[Scope, ...] = ("view", "write")
ROLE_OF_SCOPE: dict[Scope, Role] = {"view": "viewer", "write": "admin"}
TOKENS_FILE = "api-tokens.json"
PREFIX = "fst_"
"""Every named token starts so: a leaked one is recognisable in a log or a repository."""


@dataclass(frozen=True)
class NamedToken:
    """One named token as kept: never the token itself."""

    name: str
    scope: Scope
    digest: str
    created: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The named tokens file: every change locked and written whole."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / TOKENS_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, NamedToken]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {entry["name"]: NamedToken(**entry) for entry in raw.get("tokens", [])}

    def _write(self, tokens: dict[str, NamedToken]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".api-tokens-")  # mode 0600
        with os.fdopen(handle, "w") as out:
            json.dump({"tokens": [asdict(token) for token in tokens.values()]}, out, indent=1)
        os.replace(temporary, self.path)

    def tokens(self) -> list[NamedToken]:
        """Every named token, by name."""
        return sorted(self._read().values(), key=lambda token: token.name)

    def make(self, name: str, scope: Scope) -> str:
        """A new token named ``name``; returned this once, never again."""
        if scope not in SCOPES:
            raise AccountError(f"a scope is one of {', '.join(SCOPES)}")
        name = check_name(name)
        token = PREFIX + secrets.token_urlsafe(32)
        with self._locked():
            tokens = self._read()
            if name in tokens:
                raise AccountError(f"a token named {name!r} exists already: revoke it first")
            tokens[name] = NamedToken(name, scope, _digest(token), time.time())
            self._write(tokens)
        return token

    def revoke(self, name: str) -> None:
        """Forget a token: it stops working at once."""
        with self._locked():
            tokens = self._read()
            if tokens.pop(check_name(name), None) is None:
                raise AccountError(f"no token named {name!r}")
            self._write(tokens)

    def find(self, token: str) -> NamedToken | None:
        """The named token this is, if any (compared in constant time)."""
        if not token.startswith(PREFIX):
            return None
        digest = _digest(token)
        for named in self._read().values():
            if hmac.compare_digest(named.digest, digest):
                return named
        return None
