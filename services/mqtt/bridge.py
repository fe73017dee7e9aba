"""The MQTT bridge's loop: results from the bus in, presence and Home Assistant discovery out.

It keeps every retained topic's current payload, so a broker that comes back
(or a fresh one) gets the whole current state again on reconnection, and
nothing else: events that happened while it was away are not replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from services.mqtt import topics as t
from services.mqtt.link import MqttLink
from services.mqtt.presence import Presence, PresenceEvent
from shared.bus import schema
from shared.bus.sockets import Subscriber
from shared.config import Settings
from shared.people.layout import folder_signature
from shared.people.store import PeopleStore

log = logging.getLogger(__name__)

LOOP_POLL_MS = 200
"""How long the loop waits for a result before it looks at the clock: bounds how late a leave is said."""
PEOPLE_CHECK_S = 2.0
"""How often the faces folder's signature is compared, for photos dropped in by hand (people.changed: the rest)."""
LAST_SEEN_EVERY_S = 10.0
"""A present person's last_seen is refreshed this often, not at every frame: a retained message per frame per person
would be most of the broker's traffic and tell Home Assistant nothing new."""


class Bridge:
    """Turns results into MQTT messages; :meth:`run` until stopped."""

    def __init__(
        self,
        settings: Settings,
        link: MqttLink,
        clock: Callable[[], float] = time.time,
        presence: Presence | None = None,
    ) -> None:
        self.settings = settings
        self.link = link
        self.clock = clock
        self.topics = t.Topics(settings.mqtt_prefix)
        self.presence = presence or Presence()
        self.store = PeopleStore(settings.faces_dir)
        self.cameras: set[str] = {camera.name for camera in settings.cameras}
        self.people: list[str] = []
        self.retained: dict[str, Any] = {}
        """Every retained topic's current payload ('' deletes a discovery config): what a reconnection sends."""
        self._signature: tuple[int, ...] = ()
        self._people_checked = 0.0
        self._last_seen_sent: dict[str, float] = {}

    def run(self, stop: threading.Event) -> None:
        subscriber = Subscriber(self.settings, [schema.FACES + ".", schema.PEOPLE + "."])
        self.load_people(self.clock())
        self.link.start()
        try:
            while not stop.is_set():
                received = subscriber.receive(LOOP_POLL_MS)
                self.step(received[1] if received else None, self.clock())
        finally:
            subscriber.close()
            self.link.close()

    def step(self, message: schema.Message | None, now: float) -> None:
        """One turn of the loop: a bus message (or None), then the clock's consequences."""
        if self.link.take_connected():
            self.publish_everything()
        events: list[PresenceEvent] = []
        if isinstance(message, schema.Result):
            if message.camera not in self.cameras:
                self.cameras.add(message.camera)
                self.refresh_entities()
            events += self.presence.observe(message, now)
        elif isinstance(message, schema.PeopleChanged):
            self.load_people(now)
        if (
            now - self._people_checked >= PEOPLE_CHECK_S
            and folder_signature(self.settings.faces_dir) != self._signature
        ):
            self.load_people(now)
        events += self.presence.expire(now)
        for event in events:
            self.announce(event)
        self.refresh_last_seen(now)

    def load_people(self, now: float) -> None:
        """Read who is known from the faces folder; their entities follow."""
        self._people_checked = now
        self._signature = folder_signature(self.settings.faces_dir)
        people = [person.name for person in self.store.people()]
        if people != self.people:
            log.info("known people: %s", ", ".join(people) or "nobody")
            self.people = people
            self.refresh_entities()

    def refresh_entities(self) -> None:
        """Discovery configs for the cameras and people known now (removing those gone), and a state for each."""
        for camera in sorted(self.cameras):
            self.set_retained(self.topics.people(camera), t.people_payload(self.presence.in_view(camera)))
            for name in self.people:
                topic = self.topics.presence(camera, name)
                if topic not in self.retained:
                    self.set_retained(topic, t.ON if name in self.presence.in_view(camera) else t.OFF)
        if not self.settings.ha_discovery:
            return
        configs = t.discovery(self.topics, sorted(self.cameras), self.people)
        for topic, payload in self.retained.items():
            if topic.startswith(t.HA_DISCOVERY_PREFIX + "/") and topic not in configs and payload != "":
                self.set_retained(topic, "")  # an empty retained config removes the entity from Home Assistant
        for topic, config in configs.items():
            self.set_retained(topic, config)

    def announce(self, event: PresenceEvent) -> None:
        """An appear or leave: the event, and for a known person their presence, the camera's list, last seen."""
        self.link.publish(self.topics.events, event.as_json())
        if not event.known:
            return
        camera, name = event.camera, event.name
        self.set_retained(self.topics.presence(camera, name), t.ON if event.type == "appear" else t.OFF)
        self.set_retained(self.topics.people(camera), t.people_payload(self.presence.in_view(camera)))
        self.send_last_seen(name, camera, event.last_seen, event.time)

    def refresh_last_seen(self, now: float) -> None:
        for name, (camera, at) in self.presence.last_seen.items():
            if now - self._last_seen_sent.get(name, 0.0) >= LAST_SEEN_EVERY_S and name in self.presence.in_view(camera):
                self.send_last_seen(name, camera, at, now)

    def send_last_seen(self, name: str, camera: str, at: float, now: float) -> None:
        self._last_seen_sent[name] = now
        self.set_retained(self.topics.last_seen(name), t.last_seen_payload(name, camera, at))

    def set_retained(self, topic: str, payload: Any) -> None:
        """Keep a retained topic's payload and publish it if it changed."""
        if topic in self.retained and self.retained[topic] == payload:
            return
        self.retained[topic] = payload
        self.link.publish(topic, payload, retain=True)

    def publish_everything(self) -> None:
        """After a (re)connection: online, then every discovery config, then every state."""
        self.link.publish(self.topics.available, t.ONLINE, retain=True)
        configs = [topic for topic in self.retained if topic.startswith(t.HA_DISCOVERY_PREFIX + "/")]
        states = [topic for topic in self.retained if not topic.startswith(t.HA_DISCOVERY_PREFIX + "/")]
        for topic in configs + states:
            self.link.publish(topic, self.retained[topic], retain=True)
        log.info("MQTT: published the current state (%d retained topics)", len(self.retained))
