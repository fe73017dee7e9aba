"""Accounts: Argon2 hashes only, names and passwords checked, the last admin kept, the CLI that resets a password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.accounts import AccountError, AccountStore, LastAdmin, NoSuchAccount, ensure_first_admin
from shared.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_a_password_is_kept_only_as_a_hash_and_checked(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.add("Ada", "viewer", "correct horse battery")
    text = (tmp_path / "users.json").read_text()
    assert "correct horse" not in text and "$argon2id$" in text
    assert oct((tmp_path / "users.json").stat().st_mode & 0o777) == "0o600"
    assert store.verify("ada", "correct horse battery").role == "viewer"
    assert store.verify("ada", "wrong horse battery") is None
    assert store.verify("nobody", "correct horse battery") is None


@pytest.mark.parametrize(("name", "password"), [("a b", "long enough pw"), ("", "long enough pw"), ("ok", "short")])
def test_bad_names_and_short_passwords_are_refused(tmp_path: Path, name: str, password: str) -> None:
    with pytest.raises(AccountError):
        AccountStore(tmp_path).add(name, "viewer", password)


def test_the_last_admin_cannot_be_removed_and_names_are_unique(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.add("root", "admin", "long enough pw")
    with pytest.raises(AccountError, match="exists already"):
        store.add("root", "viewer", "long enough pw")
    with pytest.raises(AccountError, match="last admin"):
        store.remove("root")
    store.add("second", "admin", "long enough pw")
    store.remove("root")
    assert [account.name for account in store.accounts()] == ["second"]


def test_a_role_changes_but_the_last_admin_stays_an_admin(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.add("root", "admin", "long enough pw")
    store.add("guest", "viewer", "long enough pw")
    with pytest.raises(LastAdmin):
        store.set_role("root", "viewer")
    with pytest.raises(NoSuchAccount):
        store.set_role("nobody", "admin")
    assert store.set_role("guest", "admin").role == "admin"
    store.set_role("root", "viewer")  # another admin is left
    assert [(account.name, account.role) for account in store.accounts()] == [("guest", "admin"), ("root", "viewer")]
    assert store.verify("root", "long enough pw"), "the password survives a change of role"


def test_the_first_admin_is_made_once_with_a_password_shown_once(tmp_path: Path) -> None:
    settings = load_config(source="none", data_dir=tmp_path)
    shown = ensure_first_admin(settings)
    assert shown and AccountStore(tmp_path).verify("admin", shown)
    assert ensure_first_admin(settings) is None


def test_the_cli_sets_a_password_read_from_standard_input(tmp_path: Path) -> None:
    AccountStore(tmp_path).add("admin", "admin", "the old password")
    environment = {**os.environ, "DATA_DIR": str(tmp_path), "CONFIG_FILE": str(tmp_path / "none.toml")}
    done = subprocess.run(
        [sys.executable, "-m", "services.accounts", "password", "admin", "--password-stdin"],
        input="the new password\n",
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done
    assert AccountStore(tmp_path).verify("admin", "the new password")
    assert AccountStore(tmp_path).verify("admin", "the old password") is None
    refused = subprocess.run(
        [sys.executable, "-m", "services.accounts", "remove", "admin"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=60,
    )
    assert refused.returncode == 2 and "last admin" in refused.stderr
