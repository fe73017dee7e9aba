"""The MQTT bridge's topics and payloads, and the Home Assistant discovery configs: pure, so tests read them too.

Under MQTT_PREFIX (``facestream``):

- ``<prefix>/available``: ``online`` / ``offline`` (the last will), retained;
- ``<prefix>/events``: one JSON object per sighting's appear/named/leave, not retained;
- ``<prefix>/<camera>/events``: the same, of one camera (Home Assistant's event entity);
- ``<prefix>/<camera>/snapshot``: the JPEG of the camera's newest appearance, not retained;
- ``<prefix>/<camera>/people``: JSON list of the known names in view, retained;
- ``<prefix>/<camera>/<person>``: ``ON`` / ``OFF``, retained;
- ``<prefix>/<person>/last_seen``: JSON {camera, time, name}, retained.

``<person>`` is the name's slug (:func:`slugify`): a topic level may not hold
``+``, ``#`` or ``/``, and Home Assistant's ids take ``[a-zA-Z0-9_-]`` only;
payloads carry the name as people read it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from shared.people.names import display_name

HA_DISCOVERY_PREFIX = "homeassistant"
"""Home Assistant's default discovery prefix: the topics it subscribes to for configs."""
ONLINE, OFFLINE = "online", "offline"
ON, OFF = "ON", "OFF"
"""Home Assistant's defaults for availability and for a binary sensor's state: its configs need not repeat them."""
RESERVED_SLUGS = {"people", "last_seen", "events", "snapshot"}
"""Words of the topic tree a person's slug must not take: ``<prefix>/<camera>/people`` is the camera's list,
``events`` and ``snapshot`` its appearances, and ``<prefix>/<person>/last_seen`` a person's sighting."""
EVENT_TYPES = ["appear", "named", "leave"]
"""The ``type`` of an event (shared/sightings/events.py), as Home Assistant's event entity lists them."""

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """A name as a topic level and an id: ascii letters, digits and '_'. Accents are dropped (Zoë -> zoe); a name
    that loses more than accents (李娜) or takes a reserved word gets a short hash of itself, so it stays its own."""
    folded = "".join(char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char)).casefold()
    slug = _NOT_SLUG.sub("_", folded).strip("_")
    lossy = any(char.isalnum() and not char.isascii() for char in folded)
    if not slug or lossy or slug in RESERVED_SLUGS:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        slug = f"{slug}_{digest}" if slug else f"person_{digest}"
    return slug


def id_slug(prefix: str) -> str:
    """MQTT_PREFIX as part of an id (``home/facestream`` -> ``home_facestream``)."""
    return prefix.replace("/", "_")


class Topics:
    """Every topic the bridge publishes to, under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def available(self) -> str:
        return f"{self.prefix}/available"

    @property
    def events(self) -> str:
        return f"{self.prefix}/events"

    def people(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/people"

    def camera_events(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/events"

    def snapshot(self, camera: str) -> str:
        return f"{self.prefix}/{camera}/snapshot"

    def presence(self, camera: str, name: str) -> str:
        return f"{self.prefix}/{camera}/{slugify(name)}"

    def last_seen(self, name: str) -> str:
        return f"{self.prefix}/{slugify(name)}/last_seen"


def people_payload(names: list[str]) -> list[str]:
    """The ``<camera>/people`` list: names as people read them."""
    return [display_name(name) for name in names]


def last_seen_payload(name: str, camera: str, at: float) -> dict[str, object]:
    return {"name": display_name(name), "camera": camera, "time": round(at, 3)}


def _device(prefix: str, camera: str) -> dict[str, object]:
    return {
        "identifiers": [f"{id_slug(prefix)}_{camera}"],
        "name": f"{prefix} {camera}",
        "manufacturer": "facestream",
        "model": "camera",
    }


def presence_config_topic(prefix: str, camera: str, name: str) -> str:
    return f"{HA_DISCOVERY_PREFIX}/binary_sensor/{id_slug(prefix)}_{camera}/{slugify(name)}/config"


def people_config_topic(prefix: str, camera: str) -> str:
    return f"{HA_DISCOVERY_PREFIX}/sensor/{id_slug(prefix)}_{camera}/people/config"


def snapshot_config_topic(prefix: str, camera: str) -> str:
    return f"{HA_DISCOVERY_PREFIX}/camera/{id_slug(prefix)}_{camera}/snapshot/config"


def events_config_topic(prefix: str, camera: str) -> str:
    return f"{HA_DISCOVERY_PREFIX}/event/{id_slug(prefix)}_{camera}/appearances/config"


def _availability(topics: Topics) -> dict[str, object]:
    return {"availability_topic": topics.available, "payload_available": ONLINE, "payload_not_available": OFFLINE}


def presence_config(topics: Topics, camera: str, name: str) -> dict[str, object]:
    """A binary sensor (occupancy) for one known person on one camera: on while they are in view."""
    return {
        "name": display_name(name),
        "unique_id": f"{id_slug(topics.prefix)}_{camera}_{slugify(name)}",
        "state_topic": topics.presence(camera, name),
        "payload_on": ON,
        "payload_off": OFF,
        "device_class": "occupancy",
        **_availability(topics),
        "json_attributes_topic": topics.last_seen(name),
        "device": _device(topics.prefix, camera),
    }


def people_config(topics: Topics, camera: str) -> dict[str, object]:
    """A sensor of the people a camera sees: how many as its state, their names as the ``names`` attribute."""
    return {
        "name": "People in view",
        "unique_id": f"{id_slug(topics.prefix)}_{camera}_people",
        "state_topic": topics.people(camera),
        "value_template": "{{ value_json | count }}",
        "json_attributes_topic": topics.people(camera),
        "json_attributes_template": '{{ {"names": value_json} | tojson }}',
        "unit_of_measurement": "people",
        "state_class": "measurement",
        "icon": "mdi:account-group",
        **_availability(topics),
        "device": _device(topics.prefix, camera),
    }


def snapshot_config(topics: Topics, camera: str) -> dict[str, object]:
    """A camera entity showing the newest appearance's frame (the JPEG as the payload, as Home Assistant reads it)."""
    return {
        "name": "Newest appearance",
        "unique_id": f"{id_slug(topics.prefix)}_{camera}_snapshot",
        "topic": topics.snapshot(camera),
        "icon": "mdi:account-box",
        **_availability(topics),
        "device": _device(topics.prefix, camera),
    }


def events_config(topics: Topics, camera: str) -> dict[str, object]:
    """An event entity firing on each appear/named/leave of the camera. Home Assistant wants the type as
    ``event_type`` and the rest as attributes: the template renames the one field and picks the useful others."""
    kept = ("name", "sighting_id", "confidence", "snapshot_url")
    attributes = ", ".join(f"'{key}': value_json.{key}" for key in kept)
    return {
        "name": "Appearance",
        "unique_id": f"{id_slug(topics.prefix)}_{camera}_appearances",
        "state_topic": topics.camera_events(camera),
        "event_types": EVENT_TYPES,
        "value_template": "{{ {'event_type': value_json.type, " + attributes + "} | tojson }}",
        "icon": "mdi:account-eye",
        **_availability(topics),
        "device": _device(topics.prefix, camera),
    }


def discovery(
    topics: Topics, cameras: list[str], people: list[str], snapshots: bool = True
) -> dict[str, dict[str, object]]:
    """Every discovery config, by its topic: per camera a people sensor, an event entity, a camera entity (with
    ``snapshots``) and one binary sensor per known person."""
    configs: dict[str, dict[str, object]] = {}
    for camera in cameras:
        configs[people_config_topic(topics.prefix, camera)] = people_config(topics, camera)
        configs[events_config_topic(topics.prefix, camera)] = events_config(topics, camera)
        if snapshots:
            configs[snapshot_config_topic(topics.prefix, camera)] = snapshot_config(topics, camera)
        for name in people:
            configs[presence_config_topic(topics.prefix, camera, name)] = presence_config(topics, camera, name)
    return configs
