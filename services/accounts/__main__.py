"""``python -m services.accounts``: the login accounts, from a terminal on the server (e.g. a forgotten password).

    list                          every account and its role
    add NAME [--role viewer]      make an account (asks for its password)
    password NAME                 set a new password (asks for it)
    remove NAME                   delete an account (not the last admin)

A password is asked for at the terminal, or read from standard input with
``--password-stdin``: never from the command line, where every local user can
read it. Works on DATA_DIR/users.json of the settings, like the web service.
"""

from __future__ import annotations

import argparse
import sys

from services.accounts.commands import run
from shared.accounts import ROLES


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 done, 2 refused (the message says why)."""
    parser = argparse.ArgumentParser(
        prog="python -m services.accounts", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["list", "add", "password", "remove"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--role", choices=ROLES, default="viewer")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
