"""The MQTT bridge against a real broker (mosquitto) and the real pipeline: what Home Assistant would see.

One mosquitto on a free loopback port and one pipeline (the hamilton clip,
Lin-Manuel Miranda known, one worker, MQTT_URL pointing at the broker) serve
the module's tests in order. The test's own subscriber listens before the
bridge starts, so it sees the bridge's messages in the order they were sent.
Events come from the sightings service, so each names a sighting the API
serves; the snapshot is the frame it saved.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.mqtt import topics as t
from tests.harness import Pipeline, ResultRecorder, running_pipeline, wait_for
from tests.mosquitto import Message, Mosquitto, Recorder

pytestmark = pytest.mark.integration

CAMERA = "hamilton"
PERSON = "Lin_Manuel_Miranda"
PREFIX = "facestream"
TOPICS = t.Topics(PREFIX)
PRESENT_TIMEOUT_S = 240.0
"""From the start to his presence on MQTT: the worker loads its models and the known faces on a loaded machine."""
CHANGE_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()


@pytest.fixture(scope="module")
def heard(broker: Mosquitto) -> Iterator[Recorder]:
    """Everything published on the broker from before the bridge connects."""
    recorder = Recorder(broker.port)
    yield recorder
    recorder.close()


@pytest.fixture(scope="module")
def pipeline(
    data_dir: Path, broker: Mosquitto, heard: Recorder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("pipeline")
    with running_pipeline(
        workdir,
        source=f"{CAMERA}={data_dir / 'video_hamilton' / 'short_hamilton_clip.mp4'}",
        faces_dir=str(data_dir / "video_hamilton" / "reference"),
        workers="1",
        mqtt_url=broker.url,
    ) as running:
        yield running


def is_text(topic: str, text: str):
    return lambda message: message.topic == topic and message.text == text


def is_event(kind: str, name: str):
    def match(message: Message) -> bool:
        if message.topic != TOPICS.events:
            return False
        event = message.json()
        return event["type"] == kind and event["name"] == name and event["camera"] == CAMERA

    return match


STATE_KEY = {"binary_sensor": "state_topic", "sensor": "state_topic", "event": "state_topic", "camera": "topic"}
"""Where each Home Assistant MQTT platform reads its state (a camera's is ``topic``)."""


def check_discovery_config(message: Message, published: set[str]) -> None:
    """A discovery config Home Assistant accepts, whose topics the bridge really publishes to."""
    _, component, node_id, object_id, last = message.topic.split("/")
    assert component in STATE_KEY and last == "config", message.topic
    for part in (node_id, object_id):
        assert part.isascii() and part.replace("_", "").replace("-", "").isalnum(), message.topic
    config = message.json()
    state = STATE_KEY[component]
    for key in ("name", "unique_id", state, "availability_topic", "device"):
        assert config.get(key), (message.topic, key)
    assert config["device"]["identifiers"] and config["device"]["name"], config["device"]
    assert config["availability_topic"] == TOPICS.available
    assert config[state] in published, f"{message.topic}: {state} {config[state]} never published"
    if message.topic == t.presence_config_topic(PREFIX, CAMERA, PERSON):  # the others were never seen: no sighting
        assert config["json_attributes_topic"] in published, f"{config['json_attributes_topic']} never published"


def test_home_assistant_sees_him_come_and_go(pipeline: Pipeline, broker: Mosquitto, heard: Recorder) -> None:
    online = heard.wait(is_text(TOPICS.available, "online"), PRESENT_TIMEOUT_S, "saying online")
    presence_config = t.presence_config_topic(PREFIX, CAMERA, PERSON)
    config_at = heard.wait(lambda m: m.topic == presence_config, CHANGE_TIMEOUT_S, "configuring his sensor", online)

    present = heard.wait(is_text(TOPICS.presence(CAMERA, PERSON), "ON"), PRESENT_TIMEOUT_S, "saying he is in view")
    assert present > config_at, "his state came before Home Assistant was told about his sensor"
    appeared = heard.wait(is_event("appear", PERSON), 10, "of his appearance")
    event = heard.messages[appeared].json()
    assert event["track_id"] is not None and 0 < event["confidence"] <= 100 and event["start"] <= event["end"]
    row = pipeline.get_json(f"/api/sightings/{event['sighting_id']}")  # the event names the sighting the API keeps
    assert (row["camera"], row["start"]) == (CAMERA, event["start"]) and row["name"] in (PERSON, "Unknown")
    assert event["snapshot_url"] == f"/api/sightings/{event['sighting_id']}/snapshot.jpg"
    on_camera = heard.wait(lambda m: m.topic == TOPICS.camera_events(CAMERA), 10, "on the camera's events topic")
    assert heard.messages[on_camera].json()["type"] in t.EVENT_TYPES
    snapshot = heard.messages[heard.wait(lambda m: m.topic == TOPICS.snapshot(CAMERA), 30, "of a snapshot")]
    assert snapshot.payload[:2] == b"\xff\xd8" and not snapshot.retain  # a JPEG, and no face kept on the broker
    heard.wait(
        lambda m: m.topic == TOPICS.last_seen(PERSON) and m.json()["camera"] == CAMERA, 10, "of his last sighting"
    )
    heard.wait(lambda m: m.topic == TOPICS.people(CAMERA) and m.json() == ["Lin Manuel Miranda"], 10, "listing him")

    published = {message.topic for message in heard.messages}
    configs = [message for message in heard.messages[online:] if message.topic.startswith("homeassistant/")]
    kinds = {message.topic.split("/")[1] for message in configs}
    assert kinds == set(STATE_KEY), [message.topic for message in configs]
    assert len(configs) == 3 + 3, [message.topic for message in configs]  # people, events, snapshot; 3 known people
    for config in configs:
        check_discovery_config(config, published)
    late = Recorder(broker.port)  # Home Assistant starting now: the broker hands it the retained messages only
    try:
        for config in configs:
            late.wait(lambda m, topic=config.topic: m.topic == topic and m.retain, 10, f"retained at {config.topic}")
        late.wait(lambda m: m.topic == TOPICS.available and m.retain and m.text == "online", 10, "retained online")
        late.wait(is_text(TOPICS.presence(CAMERA, PERSON), "ON"), 10, "his retained presence")
        assert not any(m.topic.endswith(("events", "snapshot")) and m.retain for m in late.messages), "not retained"
    finally:
        late.close()

    stopped = len(heard.messages)  # before the stop: it may take seconds, and he is gone 5 s after his last frame
    pipeline.supervisorctl("stop", f"capture-{CAMERA}")
    gone = heard.wait(is_text(TOPICS.presence(CAMERA, PERSON), "OFF"), CHANGE_TIMEOUT_S, "saying he left", stopped)
    left = heard.wait(is_event("leave", PERSON), 10, "of his sighting closing", stopped)
    assert heard.messages[left].json()["end"] <= heard.messages[left].json()["time"]
    assert heard.wait(lambda m: m.topic == TOPICS.people(CAMERA) and m.json() == [], 10, "emptying the list", gone)
    status, metrics = pipeline.get("/metrics")  # the bridge's counts reach the web's /metrics over the bus
    assert status == 200 and 'facestream_delivered_total{service="mqtt",target="broker"}' in metrics.decode()


def test_a_broker_outage_slows_nothing_and_the_state_comes_back(
    pipeline: Pipeline, broker: Mosquitto, heard: Recorder
) -> None:
    pipeline.supervisorctl("start", f"capture-{CAMERA}")
    mark = len(heard.messages)
    heard.wait(is_text(TOPICS.presence(CAMERA, PERSON), "ON"), PRESENT_TIMEOUT_S, "saying he is back", mark)
    results = ResultRecorder(pipeline.bus_port)
    results.start()
    try:
        broker.stop()
        stopped = time.time()
        for second in range(1, 9):  # results keep coming and the web stays healthy, every second of the outage
            wait_for(lambda s=second: results.results(CAMERA, stopped + s - 1), 10, f"results in second {second}")
            status, body = pipeline.get("/healthz")
            assert status == 200, body
            time.sleep(max(0.0, stopped + second - time.time()))
        assert "RUNNING" in pipeline.supervisorctl("status", "mqtt")
    finally:
        results.stop()
    assert "lost" in pipeline.log("mqtt")

    broker.start()  # the same port; no persistence, so whatever it holds now the bridge sent again
    again = Recorder(broker.port)
    try:
        again.wait(is_text(TOPICS.available, "online"), CHANGE_TIMEOUT_S, "saying online again")
        again.wait(lambda m: m.topic == t.presence_config_topic(PREFIX, CAMERA, PERSON), 10, "his config again")
    finally:
        again.close()
    late = Recorder(broker.port)  # after the bridge sent it all: the broker holds it, retained
    try:
        late.wait(lambda m: m.retain and m.topic == TOPICS.available and m.text == "online", 10, "retained online")
        late.wait(lambda m: m.retain and m.topic == TOPICS.presence(CAMERA, PERSON) and m.text == "ON", 10, "his ON")
        late.wait(
            lambda m: m.retain and m.topic == TOPICS.people(CAMERA) and "Lin Manuel Miranda" in m.json(), 10, "list"
        )
        late.wait(lambda m: m.retain and m.topic == t.presence_config_topic(PREFIX, CAMERA, PERSON), 10, "his config")
        late.wait(lambda m: m.retain and m.topic == TOPICS.last_seen(PERSON), 10, "his last sighting")
    finally:
        late.close()
    log = pipeline.log("mqtt")
    assert "connected to mqtt://127.0.0.1" in log and "again" in log and "Traceback" not in log
