"""Print every result message from the broker as one JSON line.

    python -m services.watch            # every camera's results
    python -m services.watch faces.cam0 # one camera's
    python -m services.watch status.    # capture status instead

The simplest subscriber there is, and a template for your own.
"""

from __future__ import annotations

import json
import sys
import threading

from shared.bus import schema
from shared.bus.sockets import Subscriber
from shared.config import Settings
from shared.process import BAD_SETTING, run_service


def main(argv: list[str] | None = None) -> int:
    """Subscribe to the given topic prefix (default: all results) and print each message until stopped."""
    args = sys.argv[1:] if argv is None else argv
    prefix = args[0] if args else schema.FACES + "."
    if prefix.startswith(schema.FRAMES):
        print("watch: frames are binary JPEGs; watch faces., status. or stats. instead", file=sys.stderr)
        return BAD_SETTING

    def watch(settings: Settings, stop: threading.Event) -> None:
        subscriber = Subscriber(settings, [prefix])
        try:
            while not stop.is_set():
                received = subscriber.receive(200)
                if received is not None:
                    print(json.dumps(received[1].model_dump(mode="json")), flush=True)
        finally:
            subscriber.close()

    return run_service("watch", watch)


if __name__ == "__main__":
    sys.exit(main())
