"""The broker: the one address every other process connects to.

It runs the XSUB/XPUB forwarder that carries frames, results and status
between any number of publishers and subscribers, and the dispatcher that
hands frames to inference workers.
"""

from __future__ import annotations

import signal
import sys
import threading

import zmq

from services.broker.dispatcher import Dispatcher
from shared.config import ConfigError, Settings, load_config
from shared.bus import FRAME_HWM
from shared.log import setup_logging


FORWARD_HWM = FRAME_HWM * 8
"""Messages the forwarder holds per peer: about a second of frames and results. ZeroMQ's default of 1000
would let a slow subscriber fall half a minute behind instead of skipping to the newest frame."""


def start_forwarder(settings: Settings, context: zmq.Context) -> threading.Thread:
    """Bind the XSUB/XPUB pair and forward between them in a daemon thread."""
    frontend = context.socket(zmq.XSUB)
    frontend.setsockopt(zmq.RCVHWM, FORWARD_HWM)
    frontend.bind(settings.bus_endpoint("publish", bind=True))
    backend = context.socket(zmq.XPUB)
    backend.setsockopt(zmq.SNDHWM, FORWARD_HWM)  # a subscriber that falls behind loses old messages, not time
    backend.bind(settings.bus_endpoint("subscribe", bind=True))

    def forward() -> None:
        try:
            zmq.proxy(frontend, backend)
        except zmq.ZMQError as error:
            # At shutdown main() destroys the context, which closes these sockets under the proxy:
            # that is the proxy's normal end, not an error worth a traceback.
            if error.errno not in (zmq.ETERM, zmq.ENOTSOCK):
                raise
        finally:
            frontend.close(linger=0)
            backend.close(linger=0)

    thread = threading.Thread(target=forward, name="forwarder", daemon=True)
    thread.start()
    return thread


def main() -> int:
    """Start the forwarder and the dispatcher; stop on SIGTERM or SIGINT."""
    try:
        settings = load_config()
    except ConfigError as error:
        print(f"broker: {error}", file=sys.stderr)
        return 2
    log = setup_logging("broker", settings.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    context = zmq.Context.instance()
    start_forwarder(settings, context)
    dispatcher = Dispatcher(settings, context, stop)
    log.info(
        "listening: publishers %s, subscribers %s, workers %s",
        settings.bus_endpoint("publish", bind=True),
        settings.bus_endpoint("subscribe", bind=True),
        settings.bus_endpoint("dispatch", bind=True),
    )
    dispatcher.run()
    log.info("stopping")
    context.destroy(linger=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
