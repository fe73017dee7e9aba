"""The MQTT bridge's rules without a broker: presence, appear/leave, topic-safe names, discovery configs, settings."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from services.mqtt import topics as t
from services.mqtt.bridge import Bridge
from services.mqtt.presence import PRESENCE_HOLD_S, Presence
from shared.bus import schema
from shared.config import ConfigError, load_config, parse_mqtt_url

BOX = (0.4, 0.3, 0.1, 0.2)


def result(camera: str, *faces: tuple[str, int | None], confidence: float = 90.0) -> schema.Result:
    return schema.Result(
        camera=camera,
        frame_id=1,
        capture_ts=0.0,
        worker="w",
        width=640,
        height=360,
        faces=[schema.Face(box=BOX, name=name, confidence=confidence, track_id=track) for name, track in faces],
        timings=schema.Timings(),
        published_ts=0.0,
    )


def kinds(changes: list[Any]) -> list[tuple[str, str, str]]:
    return [(change.type, change.camera, change.name) for change in changes]


def test_a_known_face_appears_once_and_leaves_after_the_hold() -> None:
    presence = Presence()
    assert kinds(presence.observe(result("door", ("Ada", 1)), 100.0)) == [("appear", "door", "Ada")]
    assert presence.observe(result("door", ("Ada", 1)), 100.5) == []
    assert presence.in_view("door") == ["Ada"]
    assert presence.expire(100.5 + PRESENCE_HOLD_S) == []  # exactly the hold: still present
    gone = presence.expire(100.6 + PRESENCE_HOLD_S)
    assert kinds(gone) == [("leave", "door", "Ada")]
    assert gone[0].last_seen == 100.5
    assert presence.in_view("door") == []


def test_a_flicker_shorter_than_the_hold_toggles_nothing() -> None:
    presence = Presence()
    presence.observe(result("door", ("Ada", 1)), 0.0)
    changes = presence.expire(2.0) + presence.observe(result("door"), 2.0)  # gone from two seconds of frames...
    changes += presence.observe(result("door", ("Ada", 7)), 3.0)  # ...back on a new track
    assert changes == [] and presence.in_view("door") == ["Ada"]


def test_presence_is_per_camera_and_last_seen_follows_the_newest_sighting() -> None:
    presence = Presence()
    presence.observe(result("door", ("Ada", 1)), 0.0)
    assert kinds(presence.observe(result("hall", ("Ada", 4)), 1.0)) == [("appear", "hall", "Ada")]
    assert presence.last_seen["Ada"] == ("hall", 1.0)
    assert kinds(presence.expire(PRESENCE_HOLD_S + 0.5)) == [("leave", "door", "Ada")]
    assert presence.in_view("hall") == ["Ada"] and presence.cameras() == ["door", "hall"]


def test_strangers_have_no_presence() -> None:
    presence = Presence()
    assert presence.observe(result("door", ("Unknown", 3), ("Unknown", None)), 0.0) == []
    assert presence.in_view("door") == [] and presence.expire(100.0) == []
    assert kinds(presence.observe(result("door", ("Ada", 3)), 1.0)) == [("appear", "door", "Ada")]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Ada_Lovelace", "ada_lovelace"),
        ("Zoë O'Brien", "zoe_o_brien"),
        ("a+b#c/d", "a_b_c_d"),
        ("people", None),
        ("last_seen", None),
        ("李娜", None),
        ("Anuṣkā अनुष्का", None),
    ],
)
def test_slugs_are_topic_safe_ids(name: str, slug: str | None) -> None:
    made = t.slugify(name)
    assert all(char.isascii() and (char.isalnum() or char == "_") for char in made), made
    assert made not in t.RESERVED_SLUGS
    if slug is not None:
        assert made == slug
    else:  # lossy or reserved: kept apart by a hash of the name
        assert made != t.slugify(name + "x") and len(made) > 8


STATE_KEY = {"binary_sensor": "state_topic", "sensor": "state_topic", "event": "state_topic", "camera": "topic"}
"""The key of the topic each Home Assistant MQTT platform reads its state from."""


def test_discovery_configs_are_home_assistant_configs_pointing_at_the_bridges_topics() -> None:
    topics = t.Topics("home/facestream")
    configs = t.discovery(topics, ["door", "hall"], ["Ada_Lovelace", "李娜"])
    assert len(configs) == 2 * (3 + 2)  # per camera: people, appearances, snapshot; a presence per person
    unique_ids = set()
    for topic, config in configs.items():
        component, node_id, object_id, last = topic.split("/")[1:]
        assert topic.startswith("homeassistant/") and last == "config" and component in STATE_KEY
        assert all(part.replace("_", "").replace("-", "").isalnum() and part.isascii() for part in (node_id, object_id))
        for key in ("name", "unique_id", STATE_KEY[component], "availability_topic", "device"):
            assert key in config, (topic, key)
        assert config["availability_topic"] == topics.available
        device = config["device"]
        assert isinstance(device, dict) and device["identifiers"] and device["name"]
        unique_ids.add(config["unique_id"])
        if component == "binary_sensor":
            assert config["device_class"] == "occupancy"
            assert config["state_topic"] in {
                topics.presence(camera, name) for camera in ("door", "hall") for name in ("Ada_Lovelace", "李娜")
            }
    assert len(unique_ids) == len(configs)
    assert configs["homeassistant/binary_sensor/home_facestream_door/ada_lovelace/config"]["name"] == "Ada Lovelace"
    assert (
        configs["homeassistant/sensor/home_facestream_hall/people/config"]["state_topic"]
        == "home/facestream/hall/people"
    )
    assert (
        configs["homeassistant/camera/home_facestream_door/snapshot/config"]["topic"] == "home/facestream/door/snapshot"
    )
    event = configs["homeassistant/event/home_facestream_hall/appearances/config"]
    assert event["state_topic"] == "home/facestream/hall/events" and event["event_types"] == [
        "appear",
        "named",
        "leave",
    ]
    without = t.discovery(topics, ["door"], [], snapshots=False)
    assert not any("/camera/" in topic for topic in without)


def test_the_event_entitys_template_gives_home_assistant_an_event_type() -> None:
    """Home Assistant renders value_template with Jinja and reads the result as JSON with an ``event_type``."""
    import jinja2  # Flask's template engine, the one Home Assistant uses

    config = t.events_config(t.Topics("facestream"), "door")
    event = {"type": "appear", "sighting_id": 7, "camera": "door", "name": "Ada", "confidence": 91.0}
    event["snapshot_url"] = "/api/sightings/7/snapshot.jpg"
    environment = jinja2.Environment()
    environment.filters["tojson"] = lambda value: json.dumps(value)
    rendered = json.loads(environment.from_string(config["value_template"]).render(value_json=event))
    assert rendered == {
        "event_type": "appear",
        "name": "Ada",
        "sighting_id": 7,
        "confidence": 91.0,
        "snapshot_url": "/api/sightings/7/snapshot.jpg",
    }
    assert rendered["event_type"] in config["event_types"]


def test_mqtt_settings_parse_and_never_show_the_password() -> None:
    address = parse_mqtt_url("mqtts://ha:p%40ss@broker.lan")
    assert (address.host, address.port, address.tls, address.username, address.password) == (
        "broker.lan",
        8883,
        True,
        "ha",
        "p@ss",
    )
    assert parse_mqtt_url("mqtt://10.0.0.2").port == 1883
    settings = load_config(mqtt_url="mqtt://u:pw@h:1884")
    assert settings.mqtt_prefix == "facestream" and settings.ha_discovery and settings.mqtt_client_id is None
    for bad in ("http://u:hunter22@h", "mqtt://u:hunter22@:1883", "mqtt://u:hunter22@h:99999"):
        with pytest.raises(ConfigError, match="MQTT_URL") as refused:
            load_config(mqtt_url=bad)
        assert "hunter22" not in str(refused.value)
    with pytest.raises(ConfigError, match="MQTT_PREFIX"):
        load_config(mqtt_prefix="facestream/#")
    assert load_config(mqtt_url="").mqtt_url is None


class FakeLink:
    """An MqttLink that records instead of sending, connected or not."""

    def __init__(self) -> None:
        self.connected, self.fresh, self.sent = False, False, []

    def take_connected(self) -> bool:
        fresh, self.fresh = self.fresh, False
        return fresh

    def publish(self, topic: str, payload: Any, retain: bool = False) -> bool:
        if self.connected:
            self.sent.append((topic, payload, retain))
        return self.connected


def test_the_bridge_keeps_state_while_the_broker_is_away_and_sends_it_on_reconnection(tmp_path: Path) -> None:
    (tmp_path / "Ada").mkdir()
    (tmp_path / "Ada" / "1.jpg").write_bytes(b"not read")
    settings = load_config(mqtt_url="mqtt://h", faces_dir=tmp_path, source="door=clip.mp4")
    link = FakeLink()
    bridge = Bridge(settings, link)  # type: ignore[arg-type]
    bridge.load_people(0.0)
    bridge.step(("faces", result("door", ("Ada", 1)), None), 1.0)  # the broker is away: nothing sent, the state kept
    assert link.sent == [] and bridge.retained["facestream/door/ada"] == "ON"
    link.connected = link.fresh = True
    bridge.step(None, 1.5)
    sent = {topic: (payload, retain) for topic, payload, retain in link.sent}
    assert link.sent[0] == ("facestream/available", "online", True)
    assert sent["facestream/door/ada"] == ("ON", True) and sent["facestream/door/people"] == (["Ada"], True)
    assert sent["facestream/ada/last_seen"][0] == {"name": "Ada", "camera": "door", "time": 1.0}
    assert "homeassistant/binary_sensor/facestream_door/ada/config" in sent
    assert "facestream/events" not in sent  # events while away are not replayed
    link.sent.clear()
    bridge.step(None, 1.0 + PRESENCE_HOLD_S + 0.5)
    sent = {topic: payload for topic, payload, _ in link.sent}
    assert sent["facestream/door/ada"] == "OFF" and sent["facestream/door/people"] == []
    assert "facestream/events" not in sent  # events are the sightings': presence is state


def sighting(event: str, sighting_id: int, name: str, ts: float, camera: str = "door") -> schema.Sighting:
    return schema.Sighting(
        event=event, id=sighting_id, camera=camera, track_id=sighting_id, name=name, confidence=90.0,
        start=ts, end=ts, frames=1, ts=ts,
    )  # fmt: skip


def test_the_bridge_tells_the_sightings_events_and_the_newest_appearances_snapshot(tmp_path: Path) -> None:
    settings = load_config(mqtt_url="mqtt://h", faces_dir=tmp_path, source="door=clip.mp4", public_url="https://fs.lan")
    link = FakeLink()
    link.connected = True
    bridge = Bridge(settings, link)  # type: ignore[arg-type]
    bridge.step(("sightings", sighting("appear", 7, "Ada", 10.0), None), 10.0)
    events = [(topic, payload) for topic, payload, retain in link.sent if topic.endswith("events")]
    assert [topic for topic, _ in events] == ["facestream/events", "facestream/door/events"]
    assert events[0][1]["sighting_id"] == 7 and events[0][1]["type"] == "appear"
    assert events[0][1]["snapshot_url"] == "https://fs.lan/api/sightings/7/snapshot.jpg"
    assert all(not retain for topic, _, retain in link.sent if topic.endswith("events"))

    link.sent.clear()
    jpeg = b"\xff\xd8 a frame"
    bridge.step(("snapshots", schema.SnapshotHeader(id=7, camera="door", name="Ada", ts=10.1), memoryview(jpeg)), 10.1)
    bridge.step(("snapshots", schema.SnapshotHeader(id=9, camera="door", name="Unknown", ts=11.0), b"\xff\xd8 9"), 11)
    bridge.step(("snapshots", schema.SnapshotHeader(id=7, camera="door", name="Ada", ts=11.5), b"\xff\xd8 7b"), 11.5)
    snapshots = [(payload, retain) for topic, payload, retain in link.sent if topic == "facestream/door/snapshot"]
    assert snapshots == [(jpeg, False), (b"\xff\xd8 9", False)]  # sighting 7's better picture came too late


def test_no_snapshot_goes_to_the_broker_with_mqtt_snapshots_off(tmp_path: Path) -> None:
    settings = load_config(mqtt_url="mqtt://h", faces_dir=tmp_path, source="door=clip.mp4", mqtt_snapshots=False)
    link = FakeLink()
    link.connected = True
    bridge = Bridge(settings, link)  # type: ignore[arg-type]
    bridge.refresh_entities()
    bridge.step(("snapshots", schema.SnapshotHeader(id=1, camera="door", name="Ada", ts=1.0), b"\xff\xd8"), 1.0)
    assert not any("snapshot" in topic for topic, _, _ in link.sent)


def test_a_link_without_a_broker_drops_counts_and_logs_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    from services.mqtt.link import MqttLink

    link = MqttLink(load_config(mqtt_url="mqtt://u:hunter22@127.0.0.1:1"), "facestream/available")  # never started
    link.publish("facestream/available", "online")  # before any attempt: the start-up state, counted, not logged
    started = time.monotonic()
    with caplog.at_level("WARNING"):
        link._on_connect_fail(None, None)  # as paho's thread says when the broker does not answer
        sent = [link.publish("facestream/events", {"n": index}) for index in range(499)]
    assert time.monotonic() - started < 1.0  # never waits for a broker
    assert not any(sent) and link.dropped == 500
    drops = [record.getMessage() for record in caplog.records if "dropped" in record.getMessage()]
    assert len(drops) == 1 and "mqtt://u:***@127.0.0.1:1" in drops[0] and "hunter22" not in drops[0]


def test_the_launcher_starts_the_bridge_only_with_mqtt_url_and_never_puts_it_on_a_command_line(tmp_path: Path) -> None:
    from services.launch.supervisor_conf import render

    without = render(load_config(source="none"), tmp_path, tmp_path / "run")
    assert "[program:mqtt]" not in without
    url = "mqtt://ha:hunter22@broker.lan:1883"
    with_mqtt = render(load_config(source="none", mqtt_url=url), tmp_path, tmp_path / "run")
    assert "[program:mqtt]" in with_mqtt and "-m services.mqtt" in with_mqtt and "hunter22" not in with_mqtt
