"""A real MQTT broker for a test (Debian's ``mosquitto`` on a free loopback port), and a subscriber that records.

Each test starts its own broker with a config file in a temporary folder and
stops it after; without mosquitto the test is skipped, saying how to get it
(``scripts/install-mosquitto.sh``, run by ``make test`` as root).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness import free_port_block


def mosquitto_binary() -> str:
    """mosquitto's path, or skip the test saying why (Debian puts it in /usr/sbin, off a user's PATH)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.skip("mosquitto not installed (scripts/install-mosquitto.sh, or sudo apt-get install mosquitto)")
    return found


class Mosquitto:
    """One mosquitto process on ``port``: :meth:`start`, :meth:`stop`, and start again on the same port."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.binary = mosquitto_binary()
        self.folder = folder
        self.port = port or free_port_block(1)
        self.conf = folder / "mosquitto.conf"
        # No persistence: a restarted broker has forgotten every retained message, so what it holds after a
        # restart is what the bridge sent again.
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> None:
        self.starts += 1
        log = (self.folder / f"mosquitto-{self.starts}.log").open("wb")
        self.process = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"mosquitto exited: {(self.folder / f'mosquitto-{self.starts}.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"mosquitto did not listen on {self.port} within {timeout_s} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Message:
    topic: str
    payload: bytes
    retain: bool
    at: float

    @property
    def text(self) -> str:
        return self.payload.decode()

    def json(self) -> Any:
        return json.loads(self.payload)


class Recorder:
    """A paho subscriber to ``#`` that keeps every message in order; :meth:`wait` for one, without polling."""

    def __init__(self, port: int, topics: tuple[str, ...] = ("#",)) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[Message] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-recorder-{time.monotonic_ns()}")
        self.client.on_connect = lambda client, *_: client.subscribe([(topic, 1) for topic in topics])
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        if not self._subscribed.wait(20):
            raise AssertionError("the test's MQTT subscriber could not subscribe")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._changed:
            self.messages.append(Message(message.topic, bytes(message.payload), bool(message.retain), time.time()))
            self._changed.notify_all()

    def wait(self, match: Callable[[Message], bool], timeout_s: float, what: str, after: int = 0) -> int:
        """The index of the first message from ``after`` on that ``match`` accepts; fail naming ``what``."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for index in range(after, len(self.messages)):
                    if match(self.messages[index]):
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(message.topic, message.payload[:80]) for message in self.messages[after:]][-15:]
                    raise AssertionError(f"no MQTT message {what} within {timeout_s} s; last ones: {seen}")
                self._changed.wait(left)

    def latest(self, topic: str) -> Message | None:
        with self._changed:
            return next((message for message in reversed(self.messages) if message.topic == topic), None)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
