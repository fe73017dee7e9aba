"""Named API tokens with a scope: what an admin hands a program or a wall display instead of a password.

``view`` may watch the streams and read (as a viewer account), e.g. Home
Assistant showing ``/stream/<camera>.mjpg?token=...``; ``write`` may also change
people (as an admin). A token is shown once, when it is made; only its SHA-256
is kept (in DATA_DIR/api-tokens.json, mode 0600): a token is 32 random bytes,
so a fast hash is safe where a password would need a slow one. Each can be
revoked on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.accounts import AccountError, NameTaken, Role, check_name
from shared.json_records import JsonRecords

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
    """The named tokens file (DATA_DIR/api-tokens.json)."""

    def __init__(self, data_dir: Path) -> None:
        self.records = JsonRecords(data_dir / TOKENS_FILE, "tokens", NamedToken)
        self.path = self.records.path

    def tokens(self) -> list[NamedToken]:
        """Every named token, by name."""
        return sorted(self.records.read().values(), key=lambda token: token.name)

    def make(self, name: str, scope: Scope) -> str:
        """A new token named ``name``; returned this once, never again."""
        if scope not in SCOPES:
            raise AccountError(f"a scope is one of {', '.join(SCOPES)}")
        name = check_name(name)
        token = PREFIX + secrets.token_urlsafe(32)
        with self.records.changing() as tokens:
            if name in tokens:
                raise NameTaken(f"a token named {name!r} exists already: revoke it first")
            tokens[name] = NamedToken(name, scope, _digest(token), time.time())
        return token

    def revoke(self, name: str) -> None:
        """Forget a token: it stops working at once."""
        with self.records.changing() as tokens:
            if tokens.pop(check_name(name), None) is None:
                raise AccountError(f"no token named {name!r}")

    def find(self, token: str) -> NamedToken | None:
        """The named token this is, if any (compared in constant time)."""
        if not token.startswith(PREFIX):
            return None
        digest = _digest(token)
        for named in self.records.read().values():
            if hmac.compare_digest(named.digest, digest):
                return named
        return None
