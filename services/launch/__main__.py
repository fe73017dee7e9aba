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

from services.launch import preflight, supervisor_conf
from services.launch.banner import banner
from shared.config import ConfigError, load_config
from shared.process import BAD_SETTING

ROOT = Path(__file__).resolve().parents[2]
NOT_STARTED = 3
"""The exit code when another installation (or program) is in the way."""


def main(argv: list[str] | None = None) -> int:
    """Validate, write the supervisord config, print where to look, and exec supervisord."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=Path, help="write each service's log to a file in this folder, not the console")
    parser.add_argument("--print-config", action="store_true", help="print the supervisord config and exit")
    args = parser.parse_args(argv)
    for warning in preflight.mistyped_settings(os.environ):
        print(f"facestream: warning: {warning}", file=sys.stderr)
    try:
        settings = load_config()
    except ConfigError as error:
        print(f"facestream: {error}", file=sys.stderr)
        return BAD_SETTING
    run_dir = settings.data_dir.resolve() / "run"
    logs = args.logs.resolve() if args.logs else None
    text = supervisor_conf.render(settings, ROOT, run_dir, logs)
    if args.print_config:
        print(text)
        return 0
    try:
        preflight.hold_lock(run_dir)  # before the ports: a second launch on this DATA_DIR is told so, not "port taken"
        preflight.check_ports(settings)
    except preflight.PreflightError as refusal:
        print(f"facestream: {refusal}", file=sys.stderr)
        return NOT_STARTED
    conf_path = supervisor_conf.write(text, run_dir, logs)
    print(banner(settings, preflight.missing_files(settings)), flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "services.launch.supervise", "-n", "-c", str(conf_path)])


if __name__ == "__main__":
    sys.exit(main())
