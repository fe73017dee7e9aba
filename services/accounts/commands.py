"""The accounts CLI's commands, on DATA_DIR/users.json of the settings."""

from __future__ import annotations

import argparse
import getpass
import sys

from shared.accounts import AccountError, AccountStore
from shared.config import ConfigError, load_config


def ask_password(from_stdin: bool) -> str:
    """A new password from standard input, or typed twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    """Run one parsed command; 0 done, 2 refused (the message says why)."""
    try:
        store = AccountStore(load_config().data_dir)
        if args.command == "list":
            for account in store.accounts():
                print(f"{account.name}\t{account.role}")
            return 0
        if not args.name:
            raise AccountError(f"{args.command} needs an account name")
        if args.command == "add":
            store.add(args.name, args.role, ask_password(args.password_stdin))
        elif args.command == "password":
            store.set_password(args.name, ask_password(args.password_stdin))
        else:
            store.remove(args.name)
    except (AccountError, ConfigError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"{args.command}: done for {args.name}")
    return 0
