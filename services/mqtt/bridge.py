"""The MQTT bridge's loop: results and sightings from the bus in; presence, events, snapshots and discovery out.

Presence (ON/OFF, the people in view, last seen) follows the results
(services/mqtt/presence.py says why); events follow the sightings service's
appear/named/leave messages through the :class:`~shared.sightings.events.Announcer`
that the notify service uses too, so MQTT, webhooks and notifications tell
the same story with the same sighting ids; the snapshot is the frame the
sightings service saved for the camera's newest appearance.

It keeps every retained topic's current payload, so a broker that comes back
(or a fresh one) gets the whole current state again on reconnection, and
nothing else: events and snapshots from while it was away are not replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from services.mqtt import topics as t
from services.mqtt.link import MqttLink
from services.mqtt.presence import Presence, PresenceChange
from shared.bus import schema
from shared.bus.roster import MAX_LEARNT_CAMERAS
from shared.bus.sockets import Publisher, Subscriber
from shared.config import Settings
from shared.people.layout import folder_signature
from shared.people.store import PeopleStore
from shared.sightings.events import Announcer, SightingEvent

log = logging.getLogger(__name__)

LOOP_POLL_MS = 200
"""How long the loop waits for a result before it looks at the clock: bounds how late a leave is said."""
PEOPLE_CHECK_S = 2.0
"""How often the faces folder's signature is compared, for photos dropped in by hand (people.changed: the rest)."""
LAST_SEEN_EVERY_S = 10.0
"""A present person's last_seen is refreshed this often, not at every frame: a retained message per frame per person
would be most of the broker's traffic and tell Home Assistant nothing new."""
STATS_EVERY_S = 5.0
"""How often the bridge's counts go on the bus (``delivery.mqtt``) for the web's /metrics."""
SUBSCRIPTIONS = [schema.FACES + ".", schema.PEOPLE + ".", schema.SIGHTINGS + ".", schema.SNAPSHOTS + "."]

Received = tuple[str, Any, Any]
"""What :meth:`shared.bus.sockets.Subscriber.receive` gives: (kind, message, JPEG or None)."""


class Bridge:
    """Turns results into MQTT messages; :meth:`run` until stopped."""

    def __init__(
        self,
        settings: Settings,
        link: MqttLink,
        clock: Callable[[], float] = time.time,
        presence: Presence | None = None,
        announcer: Announcer | None = None,
    ) -> None:
        self.settings = settings
        self.link = link
        self.clock = clock
        self.topics = t.Topics(settings.mqtt_prefix)
        self.presence = presence or Presence()
        self.announcer = announcer or Announcer()
        self._newest_snapshot: dict[str, int] = {}
        """Per camera, the sighting whose picture was published last: an older sighting's better picture waits."""
        self.store = PeopleStore(settings.faces_dir)
        self.cameras: set[str] = {camera.name for camera in settings.cameras}
        self.people: list[str] = []
        self.retained: dict[str, Any] = {}
        """Every retained topic's current payload ('' deletes a discovery config): what a reconnection sends."""
        self._signature: tuple[int, ...] = ()
        self._people_checked = 0.0
        self._last_seen_sent: dict[str, float] = {}

    def run(self, stop: threading.Event) -> None:
        subscriber = Subscriber(self.settings, SUBSCRIPTIONS)
        publisher = Publisher(self.settings)
        self.load_people(self.clock())
        self.link.start()
        next_stats = time.monotonic() + STATS_EVERY_S
        try:
            while not stop.is_set():
                self.step(subscriber.receive(LOOP_POLL_MS), self.clock())
                if time.monotonic() >= next_stats:
                    next_stats = time.monotonic() + STATS_EVERY_S
                    publisher.send(schema.DELIVERY, "mqtt", self.link.stats())
        finally:
            subscriber.close()
            publisher.close()
            self.link.close()

    def step(self, received: Received | None, now: float) -> None:
        """One turn of the loop: a bus message (or None), then the clock's consequences."""
        if self.link.take_connected():
            self.publish_everything()
        changes: list[PresenceChange] = []
        events: list[SightingEvent] = []
        _, message, jpeg = received or (None, None, None)
        if isinstance(message, schema.Result):
            self.camera_seen(message.camera)
            changes += self.presence.observe(message, now)
        elif isinstance(message, schema.Sighting):
            self.camera_seen(message.camera)
            events += self.announcer.hear(message, now)
        elif isinstance(message, schema.SnapshotHeader):
            self.snapshot(message, jpeg)
        elif isinstance(message, schema.PeopleChanged):
            self.load_people(now)
        if (
            now - self._people_checked >= PEOPLE_CHECK_S
            and folder_signature(self.settings.faces_dir) != self._signature
        ):
            self.load_people(now)
        changes += self.presence.expire(now)
        for change in changes:
            self.presence_changed(change)
        for event in events + self.announcer.due(now):
            self.tell(event)
        self.refresh_last_seen(now)

    def camera_seen(self, camera: str) -> None:
        """A camera heard of on the bus (one on another machine, say) gets its entities, up to the bus's bound on
        learnt cameras: anyone can publish there, and each camera is a handful of configs the broker keeps for good."""
        if camera not in self.cameras and len(self.cameras) < len(self.settings.cameras) + MAX_LEARNT_CAMERAS:
            self.cameras.add(camera)
            self.refresh_entities()

    def tell(self, event: SightingEvent) -> None:
        """A sighting's appear, named or leave: on the events topic and on its camera's."""
        body = event.as_json(self.settings.public_url)
        self.link.publish(self.topics.events, body)
        self.link.publish(self.topics.camera_events(event.camera), body)

    def snapshot(self, header: schema.SnapshotHeader, jpeg: Any) -> None:
        """The camera's newest appearance's frame, as it was saved; never retained: it is a face, and a broker
        keeps a retained message for good, past RETAIN_DAYS."""
        if not self.settings.mqtt_snapshots or jpeg is None:
            return
        if header.id < self._newest_snapshot.get(header.camera, 0):
            return  # a better picture of an older sighting: the camera shows its newest appearance
        self._newest_snapshot[header.camera] = header.id
        self.link.publish(self.topics.snapshot(header.camera), bytes(jpeg))

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
        configs = t.discovery(self.topics, sorted(self.cameras), self.people, self.settings.mqtt_snapshots)
        for topic, payload in self.retained.items():
            if topic.startswith(t.HA_DISCOVERY_PREFIX + "/") and topic not in configs and payload != "":
                self.set_retained(topic, "")  # an empty retained config removes the entity from Home Assistant
        for topic, config in configs.items():
            self.set_retained(topic, config)

    def presence_changed(self, change: PresenceChange) -> None:
        """A known person came or went: their presence, the camera's list, their last sighting."""
        camera, name = change.camera, change.name
        self.set_retained(self.topics.presence(camera, name), t.ON if change.type == "appear" else t.OFF)
        self.set_retained(self.topics.people(camera), t.people_payload(self.presence.in_view(camera)))
        self.send_last_seen(name, camera, change.last_seen, change.time)

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
