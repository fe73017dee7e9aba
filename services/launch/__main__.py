"""Start every facestream service under supervisord, in the foreground.

Checks the settings first (a bad one stops here with the key named), writes
the supervisord configuration under DATA_DIR/run, prints the URLs to open,
then becomes supervisord: Ctrl-C stops every service.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from services.launch import supervisor_conf
from services.launch.addresses import urls
from shared.config import ConfigError, load_config
from shared.token import api_token, token_path


def main(argv: list[str] | None = None) -> int:
    """Validate, write the supervisord config, print where to look, and exec supervisord."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=Path, help="write each service's log to a file in this folder, not the console")
    parser.add_argument("--print-config", action="store_true", help="print the supervisord config and exit")
    args = parser.parse_args(argv)
    try:
        settings = load_config()
    except ConfigError as error:
        print(f"facestream: {error}", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parents[2]
    data_dir = settings.data_dir.resolve()
    run_dir = data_dir / "run"
    logs = args.logs.resolve() if args.logs else None
    text = supervisor_conf.render(settings, root, run_dir, logs)
    if args.print_config:
        print(text)
        return 0
    run_dir.mkdir(parents=True, exist_ok=True)
    if logs:
        logs.mkdir(parents=True, exist_ok=True)
    conf_path = run_dir / "supervisord.conf"
    conf_path.write_text(text)

    cameras = settings.cameras
    print("facestream is starting:")
    if cameras:
        for camera in cameras:
            print(f"  camera {camera.name}: {camera.uri}")
    else:
        print("  no camera found or configured: set SOURCE (e.g. make run SOURCE=0 or SOURCE=clip.mp4)")
    print(f"  {settings.workers} inference worker(s); known faces from {settings.faces_dir.resolve()}")
    print("Open the live view at:")
    for url in urls(settings.port, settings.bind):
        print(f"  {url}")
    home = urls(settings.port, settings.bind)[0]
    print(f"Known people: {home}people   API: {home}api/docs")
    if settings.api_token:
        print("API token: the API_TOKEN setting")
    else:
        made_now = not token_path(settings).exists()
        token = api_token(settings)
        if made_now:
            print(f"API token (made now, kept in {token_path(settings).resolve()}): {token}")
        else:
            print(f"API token: in {token_path(settings).resolve()}")
    print("Press Ctrl-C to stop.", flush=True)
    supervisord = Path(sys.executable).with_name("supervisord")
    os.execv(str(supervisord), [str(supervisord), "-n", "-c", str(conf_path)])


if __name__ == "__main__":
    sys.exit(main())
