"""The people CLI's command line."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """Manage the known people from a terminal.

    add NAME PATH...        enrol photos (files or folders of photos) of one person
    import DIR              enrol a dataset: one folder per person (DIR/<Name>/*.jpg, or DIR/<Name>.jpg)
    capture NAME            pick good, distinct photos from a camera, file or stream and enrol them
    list                    everyone known, with photo counts and when they were added
    remove NAME             forget a person
    rename OLD NEW          rename a person
    recognize IMAGE         name every face of a photo

By default it works on FACES_DIR (and the encoding cache in DATA_DIR) of the
settings, like the services, and announces each change on the bus so running
workers reload at once. With ``--server URL`` it goes through a running web
service's API instead (token: ``--token-file``, API_TOKEN, or DATA_DIR/api-token).

Exit codes: 0 done; 1 done in part (some files were skipped: the summary says
which and why); 2 nothing done: bad usage or input (a bad name, a missing
file, an unknown person, a refused token)."""


def build_parser() -> argparse.ArgumentParser:
    """The command line; --server, --token-file and --json go before or after the command."""
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--server",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="go through this running web service's API (e.g. http://127.0.0.1:8080)",
    )
    shared.add_argument(
        "--token-file",
        metavar="PATH",
        type=Path,
        default=argparse.SUPPRESS,
        help="read the API token for --server from this file (default: API_TOKEN, else DATA_DIR/api-token); "
        "never on the command line, where every local user can read it",
    )
    shared.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    parser = argparse.ArgumentParser(
        prog="python -m services.people",
        parents=[shared],
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", parents=[shared], help="enrol photos of one person")
    add.add_argument("name")
    add.add_argument("paths", nargs="+", metavar="PATH", help="photos, or folders of photos")
    imp = commands.add_parser("import", parents=[shared], help="enrol a folder with one folder per person")
    imp.add_argument("dir")
    cap = commands.add_parser("capture", parents=[shared], help="enrol good frames of a person from a camera")
    cap.add_argument("name")
    cap.add_argument("--source", default="0", help="camera index, video file or rtsp/http URL (default 0)")
    cap.add_argument("--count", type=int, default=20, help="photos to keep (default 20)")
    cap.add_argument(
        "--min-sharpness",
        type=float,
        default=30.0,
        help="variance of the face's Laplacian below which a frame is blurry (default 30)",
    )
    cap.add_argument(
        "--min-distance",
        type=float,
        default=0.1,
        help="encoding distance to every kept sample that makes a frame new (default 0.1)",
    )
    cap.add_argument(
        "--min-gap",
        type=float,
        default=2.0,
        help="seconds after the last sample after which a similar frame is kept anyway (default 2)",
    )
    cap.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds (default 120)")
    commands.add_parser("list", parents=[shared], help="everyone known")
    rem = commands.add_parser("remove", parents=[shared], help="forget a person")
    rem.add_argument("name")
    ren = commands.add_parser("rename", parents=[shared], help="rename a person")
    ren.add_argument("old")
    ren.add_argument("new")
    rec = commands.add_parser("recognize", parents=[shared], help="name the faces of a photo")
    rec.add_argument("image")
    return parser
