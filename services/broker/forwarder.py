"""The XSUB/XPUB forwarder: carries frames, results and status between any publishers and subscribers."""

from __future__ import annotations

import threading

import zmq

from shared.bus.sockets import FRAME_HWM, MAX_SUBSCRIPTION_BYTES, limit_receive
from shared.config import Settings

FORWARD_HWM = FRAME_HWM * 8
"""Messages the forwarder holds per peer: about a second of frames and results. ZeroMQ's default of 1000
would let a slow subscriber fall half a minute behind instead of skipping to the newest frame."""


def start_forwarder(settings: Settings, context: zmq.Context) -> threading.Thread:
    """Bind the XSUB/XPUB pair and forward between them in a daemon thread.

    Neither side blocks the proxy: XPUB drops for a subscriber at its high water mark, and XSUB sends
    subscriptions only to publishers with room for them. Both sides bound what they receive.
    """
    frontend = context.socket(zmq.XSUB)
    frontend.setsockopt(zmq.RCVHWM, FORWARD_HWM)
    limit_receive(frontend)  # a forged 20 MB part is refused here, before it is buffered or forwarded to anyone
    frontend.bind(settings.bus_endpoint("publish", bind=True))
    backend = context.socket(zmq.XPUB)
    backend.setsockopt(zmq.SNDHWM, FORWARD_HWM)  # a subscriber that falls behind loses old messages, not time
    limit_receive(backend, MAX_SUBSCRIPTION_BYTES)  # all a subscriber sends is subscriptions: topic prefixes
    backend.bind(settings.bus_endpoint("subscribe", bind=True))

    def forward() -> None:
        try:
            zmq.proxy(frontend, backend)
        except zmq.ZMQError as error:
            # At shutdown the broker destroys the context, which closes these sockets under the proxy:
            # that is the proxy's normal end, not an error worth a traceback.
            if error.errno not in (zmq.ETERM, zmq.ENOTSOCK):
                raise
        finally:
            frontend.close(linger=0)
            backend.close(linger=0)

    thread = threading.Thread(target=forward, name="forwarder", daemon=True)
    thread.start()
    return thread
