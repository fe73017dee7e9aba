"""The broker: the one address every other process connects to.

It runs the XSUB/XPUB forwarder that carries frames, results and status
between any number of publishers and subscribers, and the dispatcher that
hands frames to inference workers.
"""

from __future__ import annotations

import logging
import sys
import threading

import zmq

from services.broker.dispatcher import Dispatcher
from services.broker.forwarder import start_forwarder
from shared.config import Settings
from shared.process import run_service

log = logging.getLogger("broker")


def serve(settings: Settings, stop: threading.Event) -> None:
    """Forward and dispatch until stopped."""
    context: zmq.Context = zmq.Context.instance()
    start_forwarder(settings, context)
    dispatcher = Dispatcher(settings, context, stop)
    log.info(
        "listening: publishers %s, subscribers %s, workers %s",
        *(settings.bus_endpoint(role, bind=True) for role in ("publish", "subscribe", "dispatch")),
    )
    dispatcher.run()
    log.info("stopping")
    context.destroy(linger=0)


if __name__ == "__main__":
    sys.exit(run_service("broker", serve))
