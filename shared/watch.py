"""Print every result message from the broker as one JSON line.

    python -m shared.watch            # every camera's results
    python -m shared.watch faces.cam0 # one camera's
    python -m shared.watch status.    # capture status instead

The simplest subscriber there is, and a template for your own.
"""

from __future__ import annotations

import json
import signal
import sys

from shared import schema
from shared.bus import Subscriber
from shared.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    """Subscribe to the given topic prefix (default: all results) and print each message."""
    args = sys.argv[1:] if argv is None else argv
    prefix = args[0] if args else schema.FACES + "."
    if prefix.startswith(schema.FRAMES):
        print("watch: frames are binary JPEGs; watch faces., status. or stats. instead", file=sys.stderr)
        return 2
    try:
        settings = load_config()
    except ConfigError as error:
        print(f"watch: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    subscriber = Subscriber(settings, [prefix])
    try:
        while True:
            received = subscriber.receive(1000)
            if received is not None:
                _, message, _ = received
                print(json.dumps(message.model_dump(mode="json")), flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        subscriber.close()


if __name__ == "__main__":
    sys.exit(main())
