"""Webhooks and notifications from the real pipeline to real HTTP receivers the test starts on loopback.

One pipeline (the hamilton clip, Lin-Manuel Miranda known, one worker) tells
six receivers, started before it: one that takes everything, one for
strangers only, one for a camera that does not exist, one that answers 500
twice before it takes anything, one that hangs on every request, and the
push receiver (ntfy style) with a rate limit longer than the run. The clip
loops, so he appears again and again, and so do a few strangers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.sightings.events import snapshot_path
from tests.harness import Pipeline, wait_for
from tests.receiver import Receiver

pytestmark = pytest.mark.integration

CAMERA = "hamilton"
PERSON = "Lin_Manuel_Miranda"
FIRST_EVENT_TIMEOUT_S = 240.0
"""From the start to his first appearance: the worker loads its models and the known faces on a loaded machine."""
PROMPT_S = 1.5
"""A receiver beside a hanging one still gets each event within this long of its being told (normally ~10 ms)."""


@pytest.fixture(scope="module")
def receivers() -> Iterator[dict[str, Receiver]]:
    started = {
        "all": Receiver(),
        "strangers": Receiver(),
        "elsewhere": Receiver(),
        "flaky": Receiver(statuses=[500, 500]),
        "hanging": Receiver(hang=True),
        "push": Receiver(),
    }
    for receiver in started.values():
        receiver.start()
    yield started
    for receiver in started.values():
        receiver.close()


@pytest.fixture(scope="module")
def pipeline(
    data_dir: Path, receivers: dict[str, Receiver], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    hooks = [
        receivers["hanging"].url,  # first: a serial sender would hold every other one up behind it
        receivers["all"].url,
        {"url": receivers["strangers"].url, "names": ["Unknown"]},
        {"url": receivers["elsewhere"].url, "cameras": ["elsewhere"]},
        receivers["flaky"].url,
    ]
    running = Pipeline.configure(
        tmp_path_factory.mktemp("notify"),
        source=f"{CAMERA}={data_dir / 'video_hamilton' / 'short_hamilton_clip.mp4'}",
        faces_dir=str(data_dir / "video_hamilton" / "reference"),
        workers="1",
        webhook_urls=json.dumps(hooks),
        webhook_timeout_s="60",  # the hanging receiver holds its worker a minute per try
        webhook_retries="3",
        notify_url=receivers["push"].url,
        notify_interval_s="3600",
    )
    running.env["PUBLIC_URL"] = running.base_url
    try:
        running.start()
        yield running
        running.stop()
    finally:
        running.kill_leftovers()


def appears(name: str):
    return lambda request: request.json()["type"] == "appear" and request.json()["name"] == name


def test_a_webhook_gets_his_appearance_with_its_sighting_and_snapshot(
    pipeline: Pipeline, receivers: dict[str, Receiver]
) -> None:
    event = receivers["all"].wait(appears(PERSON), FIRST_EVENT_TIMEOUT_S, "of his appearance").json()
    assert event["camera"] == CAMERA and 0 < event["confidence"] <= 100 and event["start"] <= event["end"]
    assert event["snapshot_url"] == pipeline.base_url + snapshot_path(event["sighting_id"])
    row = pipeline.get_json(f"/api/sightings/{event['sighting_id']}")
    assert (row["camera"], row["start"]) == (CAMERA, event["start"])
    status, jpeg = wait_for(
        lambda: (answer := pipeline.get(snapshot_path(event["sighting_id"])))[0] == 200 and answer,
        10,
        "the snapshot the event links to",
    )
    assert jpeg[:2] == b"\xff\xd8"
    receivers["all"].wait(lambda r: r.json()["type"] == "leave", 60, "of a sighting closing")


def test_filters_send_strangers_only_where_asked_and_nothing_for_another_camera(
    pipeline: Pipeline, receivers: dict[str, Receiver]
) -> None:
    receivers["strangers"].wait(appears("Unknown"), 120, "of a stranger (the clip shows a few)")
    receivers["all"].wait(appears("Unknown"), 10, "of the stranger at the receiver of everything")
    assert {request.json()["name"] for request in receivers["strangers"].received} == {"Unknown"}
    assert any(request.json()["name"] == PERSON for request in receivers["all"].received)
    assert receivers["elsewhere"].attempts == 0


def test_a_hanging_receiver_delays_neither_the_others_nor_the_pipeline(
    pipeline: Pipeline, receivers: dict[str, Receiver]
) -> None:
    receivers["all"].wait(appears(PERSON), FIRST_EVENT_TIMEOUT_S, "of his appearance")
    assert receivers["hanging"].attempts >= 1  # it holds its first request, with a minute to answer
    mark = len(receivers["all"].received)
    wait_for(lambda: len(receivers["all"].received) >= mark + 3, 60, "three more events beside the hanging one")
    late = [
        (request.json()["type"], round(request.at - request.json()["time"], 3))
        for request in receivers["all"].received
        if request.at - request.json()["time"] > PROMPT_S
    ]
    assert late == [], f"events reached the receiver late: {late}"
    assert receivers["hanging"].attempts == 1, "the hanging receiver's worker is still stuck in its first request"
    status, body = pipeline.get("/healthz")
    assert status == 200, body


def test_a_failing_receiver_gets_the_first_event_on_the_third_try_and_the_retries_are_counted(
    pipeline: Pipeline, receivers: dict[str, Receiver]
) -> None:
    first = receivers["flaky"].wait(lambda request: True, 60, "after two 500s").json()
    assert receivers["flaky"].attempts >= 3
    assert first == receivers["all"].received[0].json(), "the same first event, tried again, not a later one"

    def retries_counted() -> bool:
        metrics = pipeline.get("/metrics")[1].decode()
        return 'facestream_delivery_retries_total{service="notify",target="webhook-5"} 2.0' in metrics

    wait_for(retries_counted, 20, "the notify service's retries on /metrics")


def test_a_notification_per_person_and_camera_within_the_rate_limit(
    pipeline: Pipeline, receivers: dict[str, Receiver]
) -> None:
    push = receivers["push"].wait(lambda r: r.headers["Title"] == "Lin Manuel Miranda arrived", 60, "his arrival")
    assert push.headers["Priority"] == "3" and push.headers["Click"].startswith(pipeline.base_url + "/api/sightings/")
    assert "Lin Manuel Miranda seen on hamilton" in push.body.decode()
    wait_for(
        lambda: sum(appears(PERSON)(request) for request in receivers["all"].received) >= 3,
        90,
        "him to appear three times (the clip loops)",
    )
    titles = [request.headers["Title"] for request in receivers["push"].received]
    assert titles.count("Lin Manuel Miranda arrived") == 1, titles
    assert titles.count(f"Unknown person at {CAMERA}") <= 1, titles
