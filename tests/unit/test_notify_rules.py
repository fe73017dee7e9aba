"""The notify service without a pipeline: filters, rate limits, what ntfy/Gotify/webhooks are sent, settings, and
each outbox against a real HTTP receiver on loopback (one that fails first, one that hangs)."""

from __future__ import annotations

import json
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from services.notify import messages
from services.notify.outbox import Outbox
from services.notify.rules import RateLimit, Wanted, worth_a_notification
from services.notify.service import Notify
from shared.config import ConfigError, load_config
from shared.redact import mask_endpoint
from shared.sightings.events import SightingEvent
from tests.harness import wait_for
from tests.receiver import Receiver


def event(
    kind: str = "appear", name: str = "Ada_Lovelace", camera: str = "door", sighting_id: int = 7
) -> SightingEvent:
    return SightingEvent(kind, sighting_id, camera, name, 3, 91.26, 1000.0, 1000.5, 1000.6)  # type: ignore[arg-type]


def test_filters_match_names_as_people_write_them_and_cameras_exactly() -> None:
    assert Wanted.of([], []).wants(event())
    ada = Wanted.of(["ada lovelace"], [])
    assert ada.wants(event()) and not ada.wants(event(name="Bob"))
    strangers = Wanted.of(["Unknown"], ["door"])
    assert strangers.wants(event(name="Unknown")) and not strangers.wants(event(name="Unknown", camera="hall"))
    assert not strangers.wants(event())


def test_a_notification_is_for_an_arrival_or_a_stranger_and_never_a_leave() -> None:
    assert worth_a_notification(event("appear")) and worth_a_notification(event("appear", name="Unknown"))
    assert worth_a_notification(event("named"))  # a sighting that turned out to be Ada: she arrived
    assert not worth_a_notification(event("named", name="Unknown")) and not worth_a_notification(event("leave"))


def test_the_rate_limit_is_per_person_and_camera_with_strangers_as_one() -> None:
    limit = RateLimit(600.0)
    assert limit.allow(event(), 0.0) and not limit.allow(event(), 599.0) and limit.allow(event(), 600.0)
    assert limit.allow(event(camera="hall"), 1.0) and limit.allow(event(name="Bob"), 1.0)
    assert limit.allow(event(name="Unknown", sighting_id=1), 1.0)
    assert not limit.allow(event(name="Unknown", sighting_id=2), 2.0)  # another stranger at the door: same alert
    assert RateLimit(0.0).allow(event(), 0.0) and RateLimit(0.0).allow(event(), 0.0)


def test_ntfy_gets_title_priority_tags_and_a_link_and_a_name_in_another_script_survives() -> None:
    request = messages.ntfy_request(event(), "https://fs.lan")
    assert request.headers["Title"] == "Ada Lovelace arrived" and request.headers["Priority"] == "3"
    assert request.headers["Click"] == "https://fs.lan/api/sightings/7/snapshot.jpg"
    assert "Ada Lovelace seen on door" in request.body.decode() and "91 % sure" in request.body.decode()
    stranger = messages.ntfy_request(event(name="Unknown"), None)
    assert stranger.headers["Title"] == "Unknown person at door" and stranger.headers["Priority"] == "4"
    assert "Click" not in stranger.headers  # a bare path opens nothing on a phone
    other = messages.ntfy_request(event(name="李娜"), None).headers["Title"]
    assert other.isascii() and str(make_header(decode_header(other))) == "李娜 arrived"
    forged = messages.ntfy_request(event(name="Eve\r\nX-Evil: 1"), None).headers["Title"]
    assert "\r" not in forged and "\n" not in forged


def test_gotify_gets_json_and_a_webhook_the_events_json() -> None:
    body = json.loads(messages.gotify_request(event(name="Unknown"), "https://fs.lan").body)
    assert body["title"] == "Unknown person at door" and body["priority"] == 8
    assert body["extras"]["client::notification"]["click"]["url"].endswith("/api/sightings/7/snapshot.jpg")
    hook = messages.webhook_request(event(), None)
    assert json.loads(hook.body) == event().as_json(None) and hook.headers["Content-Type"] == "application/json"


def test_webhook_and_notify_settings_parse_and_never_show_a_token() -> None:
    settings = load_config(
        webhook_urls='["http://a.lan/x", {"url": "https://b.lan/y", "names": ["Unknown"], "cameras": ["door"]}]',
        notify_url="https://ntfy.sh/secret-topic",
        notify_names="Ada, Unknown",
        source="none",
    )
    assert [hook.url for hook in settings.webhook_urls] == ["http://a.lan/x", "https://b.lan/y"]
    assert settings.webhook_urls[1].names == ["Unknown"] and settings.notify_names == ["Ada", "Unknown"]
    assert load_config(webhook_urls="http://a/1, http://b/2", source="none").webhook_urls[1].url == "http://b/2"
    assert load_config(webhook_urls="", notify_url="", source="none").notify_url is None
    for bad in ("ftp://u:hunter22@h/x", '[{"url": "http://h/hunter22", "nmes": []}]', "[hunter22"):
        with pytest.raises(ConfigError, match="WEBHOOK_URLS") as refused:
            load_config(webhook_urls=bad, source="none")
        assert "hunter22" not in str(refused.value)
    with pytest.raises(ConfigError, match="NOTIFY_URL") as refused:
        load_config(notify_url="ntfy.sh/hunter22", source="none")
    assert "hunter22" not in str(refused.value)
    assert mask_endpoint("https://u:pw@ha.lan:8123/api/webhook/hunter22?token=x") == "https://u:***@ha.lan:8123/***"


def test_the_launcher_starts_notify_only_when_configured_and_never_puts_a_url_on_a_command_line(tmp_path: Path) -> None:
    from services.launch.banner import banner
    from services.launch.supervisor_conf import render

    assert "[program:notify]" not in render(load_config(source="none"), tmp_path, tmp_path / "run")
    for settings in (
        load_config(source="none", webhook_urls="https://ha.lan/api/webhook/hunter22"),
        load_config(source="none", notify_url="https://ntfy.sh/hunter22"),
    ):
        conf = render(settings, tmp_path, tmp_path / "run")
        assert "[program:notify]" in conf and "-m services.notify" in conf and "hunter22" not in conf
        shown = banner(settings.model_copy(update={"data_dir": tmp_path, "auth": False}))
        assert "hunter22" not in shown and ("Webhooks:" in shown or "Notifications:" in shown)


def test_an_outbox_retries_a_failing_receiver_with_backoff_and_counts() -> None:
    receiver = Receiver(statuses=[500, 503]).start()
    outbox = Outbox("webhook-1", receiver.url, timeout_s=2.0, retries=3, backoff_first_s=0.05)
    outbox.start()
    try:
        outbox.offer(messages.webhook_request(event(), None))
        got = receiver.wait(lambda request: True, 10, "after two failures")
        assert got.json()["sighting_id"] == 7 and receiver.attempts == 3
        counts = wait_for(lambda: outbox.counts().sent and outbox.counts(), 5, "the delivery to be counted")
        assert (counts.sent, counts.retries, counts.failed, counts.dropped) == (1, 2, 0, 0)
    finally:
        outbox.close()
        receiver.close()


def test_a_refusing_receiver_is_not_retried_and_one_that_never_works_is_given_up(caplog) -> None:
    refusing, broken = Receiver(statuses=[400]).start(), Receiver(statuses=[500] * 10).start()
    outboxes = [Outbox(label, receiver.url, 2.0, 2, backoff_first_s=0.01) for label, receiver in
                (("webhook-1", refusing), ("webhook-2", broken))]  # fmt: skip
    for outbox in outboxes:
        outbox.start()
        outbox.offer(messages.webhook_request(event(), None))
    try:
        wait_for(lambda: sum(outbox.counts().failed for outbox in outboxes) == 2, 10, "both to be given up")
        assert refusing.attempts == 1 and outboxes[0].counts().failed == 1 and outboxes[0].counts().retries == 0
        assert broken.attempts == 3 and outboxes[1].counts().failed == 1 and outboxes[1].counts().retries == 2
        assert "answered 500 after 3 attempt(s)" in caplog.text and "/hook" not in caplog.text  # no path logged
    finally:
        for outbox in outboxes:
            outbox.close()
        refusing.close()
        broken.close()


def test_a_hanging_receiver_fills_only_its_own_queue(caplog) -> None:
    hanging, healthy = Receiver(hang=True).start(), Receiver().start()
    slow = Outbox("webhook-1", hanging.url, timeout_s=30.0, retries=0, queue_size=3)
    fast = Outbox("webhook-2", healthy.url, timeout_s=30.0, retries=0, queue_size=3)
    slow.start()
    fast.start()
    try:
        slow.offer(messages.webhook_request(event(sighting_id=1), None))
        hanging.wait_attempts(1, 10)  # the worker is stuck in that request now
        started = time.monotonic()
        accepted = [slow.offer(messages.webhook_request(event(sighting_id=n), None)) for n in range(2, 12)]
        assert time.monotonic() - started < 0.5  # offering never waits
        assert accepted.count(True) == 3 and slow.counts().dropped == 7
        fast.offer(messages.webhook_request(event(sighting_id=99), None))
        healthy.wait(lambda request: request.json()["sighting_id"] == 99, 5, "beside a hanging receiver")
        drops = [record for record in caplog.records if "dropped" in record.getMessage()]
        assert len(drops) == 1, "drops are logged once per interval"
    finally:
        hanging.close()
        slow.close(grace_s=0.1)
        fast.close()
        healthy.close()


def test_notify_routes_by_filter_and_rate_limit(tmp_path: Path) -> None:
    receivers = [Receiver().start() for _ in range(3)]
    settings = load_config(
        source="none",
        webhook_urls=json.dumps([receivers[0].url, {"url": receivers[1].url, "names": ["Unknown"]}]),
        notify_url=receivers[2].url,
        notify_interval_s=600,
    )
    notify = Notify(settings)
    notify.start()
    try:
        for number, (kind, name) in enumerate([("appear", "Ada"), ("appear", "Unknown"), ("leave", "Ada")]):
            notify.tell(event(kind, name, sighting_id=number + 1), 1000.0)
        notify.tell(event("appear", "Ada", sighting_id=9), 1001.0)  # back within the interval: no second buzz
        receivers[0].wait(lambda request: request.json()["sighting_id"] == 9, 10, "of every event")
        receivers[1].wait(lambda request: request.json()["name"] == "Unknown", 10, "of the stranger")
        titles = [receivers[2].wait(lambda r, t=t: r.headers["Title"] == t, 10, t).headers["Title"]
                  for t in ("Ada arrived", "Unknown person at door")]  # fmt: skip
        assert len(titles) == 2
        wait_for(lambda: notify.stats().targets["webhook-1"].sent == 4, 5, "the four webhooks to be counted")
        assert notify.notifications_limited == 1
        assert len(receivers[1].received) == 1 and len(receivers[2].received) == 2
    finally:
        notify.close()
        for receiver in receivers:
            receiver.close()
