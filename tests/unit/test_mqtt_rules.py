"""The MQTT bridge's rules without a broker: presence, appear/leave, topic-safe names, discovery configs, settings."""

from __future__ import annotations

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


def kinds(events: list[Any]) -> list[tuple[str, str, str, int | None]]:
    return [(event.type, event.camera, event.name, event.track_id) for event in events]


def test_a_known_face_appears_once_and_leaves_after_the_hold() -> None:
    presence = Presence()
    assert kinds(presence.observe(result("door", ("Ada", 1)), 100.0)) == [("appear", "door", "Ada", 1)]
    assert presence.observe(result("door", ("Ada", 1)), 100.5) == []
    assert presence.in_view("door") == ["Ada"]
    assert presence.expire(100.5 + PRESENCE_HOLD_S) == []  # exactly the hold: still present
    gone = presence.expire(100.6 + PRESENCE_HOLD_S)
    assert kinds(gone) == [("leave", "door", "Ada", 1)]
    assert gone[0].last_seen == 100.5 and gone[0].reason == "out_of_view"
    assert presence.in_view("door") == []


def test_a_flicker_shorter_than_the_hold_toggles_nothing() -> None:
    presence = Presence()
    presence.observe(result("door", ("Ada", 1)), 0.0)
    events = presence.expire(2.0) + presence.observe(result("door"), 2.0)  # gone from two seconds of frames...
    events += presence.observe(result("door", ("Ada", 7)), 3.0)  # ...back on a new track
    assert events == [] and presence.in_view("door") == ["Ada"]


def test_presence_is_per_camera_and_last_seen_follows_the_newest_sighting() -> None:
    presence = Presence()
    presence.observe(result("door", ("Ada", 1)), 0.0)
    assert kinds(presence.observe(result("hall", ("Ada", 4)), 1.0)) == [("appear", "hall", "Ada", 4)]
    assert presence.last_seen["Ada"] == ("hall", 1.0)
    assert kinds(presence.expire(PRESENCE_HOLD_S + 0.5)) == [("leave", "door", "Ada", 1)]
    assert presence.in_view("hall") == ["Ada"] and presence.cameras() == ["door", "hall"]


def test_strangers_are_told_apart_by_track_and_one_who_gets_named_leaves_as_unknown() -> None:
    presence = Presence()
    events = presence.observe(result("door", ("Unknown", 3), ("Unknown", 4), ("Unknown", None)), 0.0)
    assert kinds(events) == [("appear", "door", "Unknown", 3), ("appear", "door", "Unknown", 4)]
    assert presence.in_view("door") == []  # strangers are events, never names in view
    named = presence.observe(result("door", ("Ada", 3), ("Unknown", 4)), 1.0)
    assert kinds(named) == [("leave", "door", "Unknown", 3), ("appear", "door", "Ada", 3)]
    assert named[0].reason == "named"
    assert kinds(presence.expire(1.0 + PRESENCE_HOLD_S + 0.1)) == [
        ("leave", "door", "Ada", 3),
        ("leave", "door", "Unknown", 4),
    ]


def test_an_event_as_json_carries_what_a_subscriber_needs() -> None:
    event = Presence().observe(result("door", ("Ada_Lovelace", 9), confidence=87.26), 1234.5)[0]
    assert event.as_json() == {
        "type": "appear",
        "camera": "door",
        "name": "Ada_Lovelace",
        "track_id": 9,
        "confidence": 87.3,
        "time": 1234.5,
        "last_seen": 1234.5,
    }


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


def test_discovery_configs_are_home_assistant_configs_pointing_at_the_bridges_topics() -> None:
    topics = t.Topics("home/facestream")
    configs = t.discovery(topics, ["door", "hall"], ["Ada_Lovelace", "李娜"])
    assert len(configs) == 2 * (1 + 2)
    unique_ids = set()
    for topic, config in configs.items():
        component, node_id, object_id, last = topic.split("/")[1:]
        assert topic.startswith("homeassistant/") and last == "config" and component in ("binary_sensor", "sensor")
        assert all(part.replace("_", "").replace("-", "").isalnum() and part.isascii() for part in (node_id, object_id))
        for key in ("name", "unique_id", "state_topic", "availability_topic", "device"):
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
    bridge.step(result("door", ("Ada", 1)), 1.0)  # the broker is away: nothing sent, the state kept
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
    assert sent["facestream/events"]["type"] == "leave"


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
