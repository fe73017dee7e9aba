"""Who may use facestream: accounts with a role, their passwords hashed with Argon2, kept in DATA_DIR/users.json.

Two roles, as in Frigate: ``admin`` may do everything; ``viewer`` may watch the
streams and read results, cameras and the list of people, but not see, add or
change anyone's photos or accounts. A handful of accounts on one machine needs
no database: one JSON file, written whole and atomically (mode 0600), read
again on every lookup so the web and the accounts CLI never disagree. The
first start makes ``admin`` with a generated password shown once (or
``ADMIN_PASSWORD``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.config import Settings
from shared.json_records import JsonRecords

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")
FIRST_ADMIN = "admin"
MIN_PASSWORD_LENGTH = 10
NAME_PATTERN = r"^\s*[A-Za-z0-9._-]{1,32}\s*$"
"""An account's or a named token's name as sent (trimmed and lower-cased when kept): the API documents it."""
USERS_FILE = "users.json"
_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


class NoSuchAccount(AccountError):
    """The account named does not exist (the API answers 404)."""


class NameTaken(AccountError):
    """An account or token of that name exists already (the API answers 409)."""


class LastAdmin(AccountError):
    """The change would leave no admin, and then nobody could manage the accounts (the API answers 409)."""


@dataclass(frozen=True)
class Account:
    """One account: its name, role and password hash (never the password)."""

    name: str
    role: Role
    password_hash: str
    created: float


def check_name(name: str) -> str:
    """An account name: 1-32 lower-case letters, digits, '.', '_' or '-'."""
    cleaned = name.strip().lower()
    if not 1 <= len(cleaned) <= 32 or not set(cleaned) <= _NAME_CHARACTERS:
        raise AccountError("an account name is 1-32 lower-case letters, digits, '.', '_' or '-'")
    return cleaned


def check_password(password: str) -> str:
    """A password long enough to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return password


class AccountStore:
    """The accounts file (DATA_DIR/users.json)."""

    def __init__(self, data_dir: Path) -> None:
        self.records = JsonRecords(data_dir / USERS_FILE, "accounts", Account)
        self.path = self.records.path

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        return sorted(self.records.read().values(), key=lambda account: account.name)

    def get(self, name: str) -> Account | None:
        """One account, if it exists."""
        return self.records.read().get(name.strip().lower())

    def add(self, name: str, role: Role, password: str) -> Account:
        """Make an account; AccountError if the name is taken or bad, the role unknown, the password short."""
        if role not in ROLES:
            raise AccountError(f"a role is one of {', '.join(ROLES)}")
        name, password = check_name(name), check_password(password)
        with self.records.changing() as accounts:
            if name in accounts:
                raise NameTaken(f"an account named {name!r} exists already")
            accounts[name] = Account(name, role, _hasher.hash(password), time.time())
            return accounts[name]

    def set_password(self, name: str, password: str) -> None:
        """Give an account a new password."""
        password = check_password(password)
        with self.records.changing() as accounts:
            account = _existing(accounts, name)
            accounts[account.name] = Account(account.name, account.role, _hasher.hash(password), account.created)

    def set_role(self, name: str, role: Role) -> Account:
        """Give an account another role; the last admin cannot become a viewer (nobody could manage the rest)."""
        if role not in ROLES:
            raise AccountError(f"a role is one of {', '.join(ROLES)}")
        with self.records.changing() as accounts:
            account = _existing(accounts, name)
            if account.role == "admin" and role != "admin" and _is_last_admin(accounts, account):
                raise LastAdmin("the last admin cannot become a viewer")
            accounts[account.name] = Account(account.name, role, account.password_hash, account.created)
            return accounts[account.name]

    def remove(self, name: str) -> None:
        """Delete an account; the last admin cannot be deleted (nobody could manage the rest)."""
        with self.records.changing() as accounts:
            account = _existing(accounts, name)
            if _is_last_admin(accounts, account):
                raise LastAdmin("the last admin cannot be removed")
            del accounts[account.name]

    def verify(self, name: str, password: str) -> Account | None:
        """The account if the password is its own, else None (a wrong name costs as long as a wrong password)."""
        account = self.get(name)
        try:
            _hasher.verify(account.password_hash if account else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        return account


def _existing(accounts: dict[str, Account], name: str) -> Account:
    """The account of that name among ``accounts``, or NoSuchAccount."""
    account = accounts.get(check_name(name))
    if account is None:
        raise NoSuchAccount(f"no account named {name!r}")
    return account


def _is_last_admin(accounts: dict[str, Account], account: Account) -> bool:
    """Whether ``account`` is the only admin left."""
    return account.role == "admin" and sum(other.role == "admin" for other in accounts.values()) == 1


@cache
def _dummy_hash() -> str:
    """A hash to check a wrong name's password against, so it costs as long as a wrong password.

    Made on the first login, not at import: every process that imports this module (the web, the launcher)
    would otherwise pay an Argon2 hash (64 MB, tens of ms) at start.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


def ensure_first_admin(settings: Settings) -> str | None:
    """Make the first admin if there is no account; the generated password, to show once (None if given or not made)."""
    store = AccountStore(settings.data_dir)
    if store.accounts():
        return None
    password = settings.admin_password or secrets.token_urlsafe(12)
    try:
        store.add(FIRST_ADMIN, "admin", password)
    except AccountError:
        if store.get(FIRST_ADMIN) is not None:  # another process made it first
            return None
        raise
    return None if settings.admin_password else password


LOG_IN_HINT = "Log in with your account (python -m services.accounts password NAME sets a new password)."


def first_admin_line(password: str) -> str:
    """The one time the first admin's generated password is shown: by the launcher, or the web's log in a container."""
    return (
        f"Log in as {FIRST_ADMIN!r} with the password {password} (shown this once: change it, or set "
        "ADMIN_PASSWORD before the first start)."
    )
