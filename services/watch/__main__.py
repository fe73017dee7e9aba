"""Print the bus's messages as they come: every camera's results by default, as JSON lines or readable lines.

    python -m services.watch                    # every camera's results, one JSON line each
    python -m services.watch --camera door      # one camera's
    python -m services.watch --text             # "12:03:04 door frame 812: Ada Lovelace 93%"
    python -m services.watch --topic status.    # capture status instead

The simplest subscriber there is, and a template for your own.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from services.watch.printer import QuietWatch, as_json, as_text
from shared.bus import schema
from shared.bus.sockets import Subscriber
from shared.config import Settings
from shared.process import BAD_SETTING, run_service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--camera", help="only this camera's messages")
    parser.add_argument("--topic", default=schema.FACES + ".", help="the topic prefix (faces., status., stats.)")
    parser.add_argument("--text", action="store_true", help="readable lines instead of JSON lines")
    args = parser.parse_args(argv)
    prefix = args.topic + (args.camera or "") if args.topic.endswith(".") else args.topic
    if prefix.startswith(schema.FRAMES):
        print("watch: frames are binary JPEGs; watch faces., status. or stats. instead", file=sys.stderr)
        return BAD_SETTING
    show = as_text if args.text else as_json

    def watch(settings: Settings, stop: threading.Event) -> None:
        endpoint = settings.bus_endpoint("subscribe")
        print(f"watch: listening on {endpoint} for {prefix!r} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        subscriber, quiet = Subscriber(settings, [prefix]), QuietWatch(endpoint, time.monotonic())
        try:
            while not stop.is_set():
                received = subscriber.receive(200)
                if received is not None:
                    quiet.heard(time.monotonic())
                    print(show(received[1]), flush=True)
                elif warning := quiet.warning(time.monotonic()):
                    print(warning, file=sys.stderr, flush=True)
        finally:
            subscriber.close()

    return run_service("watch", watch)


if __name__ == "__main__":
    sys.exit(main())
