"""``python -m services.people``: manage the known people from a terminal (commands: services/people/parser.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from services.people.backends import CliError, LocalPeople, People
from services.people.cli_client import RemotePeople
from services.people.commands import COMMANDS, USAGE
from services.people.parser import build_parser
from shared.config import ConfigError, load_config
from shared.token import client_token


def open_people(args: argparse.Namespace) -> People:
    """The local folder store, or the API of --server."""
    server, token_file = getattr(args, "server", None), getattr(args, "token_file", None)
    if not server:
        if token_file:
            raise CliError("--token-file goes with --server (locally the CLI writes to FACES_DIR itself)")
        try:
            return LocalPeople(load_config())
        except ConfigError as problem:
            raise CliError(str(problem)) from None

    try:
        data_dir: Path | None = load_config().data_dir
    except ConfigError:
        data_dir = Path(os.environ.get("DATA_DIR", "data"))
    return RemotePeople(server, client_token(read_token_file(token_file) if token_file else None, data_dir))


def read_token_file(path: Path) -> str:
    """The token kept in a file, or CliError naming the file."""
    try:
        return path.read_text().strip()
    except OSError as problem:
        raise CliError(f"cannot read the token file {path}: {problem.strerror or problem}") from None


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    try:
        return COMMANDS[args.command](open_people(args), args)
    except CliError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
