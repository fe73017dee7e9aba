"""The connection to the MQTT broker: paho-mqtt's own thread connects, reconnects with backoff, never blocks us.

Publishing never waits: while the broker is away a message is dropped on the
spot, counted and logged at most once per interval. Nothing is queued for
later, because only the current state matters: the bridge keeps it and
publishes it again on every (re)connection, which :meth:`MqttLink.take_connected`
tells it about. The last will says ``offline`` on ``<prefix>/available`` if the
bridge vanishes without a word.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shared.bus import schema
from shared.config import Settings, parse_mqtt_url
from shared.log import RateLimitedLog
from shared.redact import mask_uri

log = logging.getLogger(__name__)

RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 30
"""paho's backoff between connection attempts: doubles from 1 s to 30 s, so a broker that comes back is found
within half a minute and a broker that stays away costs one attempt every 30 s."""
KEEPALIVE_S = 30
"""A silent connection is pinged after this long; a broker that stopped answering is noticed within ~1.5x."""
MAX_QUEUED = 1000
"""Messages paho may hold unsent while connected (a slow broker): beyond it, publishing drops instead of growing."""
DROP_LOG_INTERVAL_S = 30.0
"""Dropped messages are logged at most this often: a broker away for a night must not fill the log."""
QOS = 1


def default_client_id() -> str:
    return f"facestream-{socket.gethostname()}"


class MqttLink:
    """One MQTT client for the bridge; thread-safe to publish from the bridge's loop."""

    def __init__(self, settings: Settings, available_topic: str) -> None:
        assert settings.mqtt_url, "the MQTT bridge runs only with MQTT_URL"
        self.address = parse_mqtt_url(settings.mqtt_url)
        self.shown_url = mask_uri(settings.mqtt_url)
        self.available_topic = available_topic
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id or default_client_id(),
            clean_session=True,
        )
        if self.address.username is not None:
            self.client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self.client.tls_set()
        self.client.will_set(available_topic, "offline", qos=QOS, retain=True)
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        self._connected = threading.Event()
        self._fresh = threading.Event()
        self.sent = 0
        self.dropped = 0
        self.connections = 0
        self._tried = False
        """Whether a connection attempt has ended yet: drops before it are the start-up state, sent on connecting."""
        self._closing = False
        self._drops = RateLimitedLog(log, DROP_LOG_INTERVAL_S)
        self._failures = RateLimitedLog(log, DROP_LOG_INTERVAL_S)

    def start(self) -> None:
        """Connect in paho's thread (retrying until it works); returns at once."""
        log.info("MQTT: connecting to %s", self.shown_url)
        self.client.connect_async(self.address.host, self.address.port, KEEPALIVE_S)
        self.client.loop_start()

    def take_connected(self) -> bool:
        """True once after each (re)connection: time to publish the whole current state again."""
        if self._fresh.is_set():
            self._fresh.clear()
            return True
        return False

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def publish(self, topic: str, payload: Any, retain: bool = False) -> bool:
        """Send one message (JSON unless a str or bytes) if connected; else drop and count it. Never waits."""
        if isinstance(payload, (str, bytes)):
            data: str | bytes = payload
        else:
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if self.connected:
            info = self.client.publish(topic, data, qos=QOS, retain=retain)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self.sent += 1
                return True
            why = mqtt.error_string(info.rc)
        else:
            why = f"not connected to {self.shown_url}"
        self.dropped += 1
        if self._tried:
            self._drops.warning("MQTT message dropped", f"{why}; the current state is sent again on reconnection")
        return False

    def stats(self) -> schema.DeliveryStats:
        """The counts for /metrics: messages handed to paho (sent) and dropped while the broker was away."""
        return schema.DeliveryStats(
            service="mqtt", targets={"broker": schema.DeliveryCounts(sent=self.sent, dropped=self.dropped)}
        )

    def close(self) -> None:
        """Say ``offline`` (retained) and disconnect, so subscribers need not wait for the will."""
        self._closing = True
        if self.connected:
            try:
                self.client.publish(self.available_topic, "offline", qos=QOS, retain=True).wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                pass  # lost meanwhile: the will says offline instead
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._tried = True
        if reason.is_failure:
            self._failures.warning("MQTT connection refused", f"{self.shown_url}: {reason}")
            return
        self.connections += 1
        log.info("MQTT: connected to %s%s", self.shown_url, " again" if self.connections > 1 else "")
        self._connected.set()
        self._fresh.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self._closing:
            log.info("MQTT: disconnected from %s", self.shown_url)
        elif self._connected.is_set():
            log.warning("MQTT: lost %s (%s); reconnecting with backoff", self.shown_url, reason)
        self._connected.clear()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._tried = True
        self._failures.warning(
            "MQTT broker unreachable", f"{self.shown_url}; retrying every {RECONNECT_MAX_S} s at most"
        )
