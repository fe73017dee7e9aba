"""The notify service's loop: sightings from the bus in; webhooks and push notifications out, each to its outbox.

The loop only decides: which receivers want an event (their filters), whether
a notification is due (its rate limit), and what to send; it hands each
request to that receiver's outbox, which never waits. So a receiver that hangs
delays neither the others nor the pipeline (services/notify/outbox.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from services.notify.messages import PUSH_FORMATS, webhook_request
from services.notify.outbox import Outbox
from services.notify.rules import RateLimit, Wanted, worth_a_notification
from shared.bus import schema
from shared.bus.sockets import Publisher, Subscriber
from shared.config import Settings
from shared.process import StartupError
from shared.sightings.events import Announcer, SightingEvent

log = logging.getLogger("notify")

LOOP_POLL_MS = 200
"""How long the loop waits for a message before it looks at the clock: bounds how late a settled stranger is told."""
STATS_EVERY_S = 5.0
"""How often the counts go on the bus (``delivery.notify``) for the web's /metrics."""


@dataclass(frozen=True)
class WebhookOutbox:
    """One WEBHOOK_URLS entry at work: its outbox, and which events it wants."""

    outbox: Outbox
    wanted: Wanted


class Notify:
    """The receivers and their rules; :meth:`tell` routes one event."""

    def __init__(self, settings: Settings) -> None:
        self.public_url = settings.public_url
        timeout_s, retries = settings.webhook_timeout_s, settings.webhook_retries
        self.webhooks = [
            WebhookOutbox(
                Outbox(f"webhook-{number}", hook.url, timeout_s, retries), Wanted.of(hook.names, hook.cameras)
            )
            for number, hook in enumerate(settings.webhook_urls, start=1)
        ]
        self.push: Outbox | None = None
        if settings.notify_url:
            self.push = Outbox("notify", settings.notify_url, timeout_s, retries)
        self.push_format = PUSH_FORMATS[settings.notify_format]
        self.push_wanted = Wanted.of(settings.notify_names, settings.notify_cameras)
        self.rate_limit = RateLimit(settings.notify_interval_s)
        self.notifications_limited = 0

    @property
    def outboxes(self) -> list[Outbox]:
        return [hook.outbox for hook in self.webhooks] + ([self.push] if self.push else [])

    def start(self) -> None:
        for hook in self.webhooks:
            log.info("%s: %s, for %s", hook.outbox.label, hook.outbox.shown_url, hook.wanted.describe())
        if self.push:
            log.info("notify: %s, for %s", self.push.shown_url, self.push_wanted.describe())
        for outbox in self.outboxes:
            outbox.start()

    def tell(self, event: SightingEvent, now: float) -> None:
        """One event to every webhook that wants it, and a notification if it is worth one and not too soon."""
        for hook in self.webhooks:
            if hook.wanted.wants(event):
                hook.outbox.offer(webhook_request(event, self.public_url))
        if self.push is None or not worth_a_notification(event) or not self.push_wanted.wants(event):
            return
        if not self.rate_limit.allow(event, now):
            self.notifications_limited += 1
            log.debug("notification of %s on %s held back by NOTIFY_INTERVAL_S", event.name, event.camera)
            return
        self.push.offer(self.push_format(event, self.public_url))

    def stats(self) -> schema.DeliveryStats:
        return schema.DeliveryStats(
            service="notify", targets={outbox.label: outbox.counts() for outbox in self.outboxes}
        )

    def close(self) -> None:
        for outbox in self.outboxes:
            outbox.close()


def serve(settings: Settings, stop: threading.Event) -> None:
    """Tell the receivers of every sighting event until stopped."""
    if not settings.webhook_urls and not settings.notify_url:
        raise StartupError("neither WEBHOOK_URLS nor NOTIFY_URL is set: no one to tell")
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its debug lines show request paths: tokens, topics
    notify = Notify(settings)
    notify.start()
    announcer = Announcer()
    subscriber = Subscriber(settings, [schema.SIGHTINGS + "."])
    publisher = Publisher(settings)
    next_stats = time.monotonic() + STATS_EVERY_S
    try:
        while not stop.is_set():
            received = subscriber.receive(LOOP_POLL_MS)
            now = time.time()
            message = received[1] if received else None
            events = announcer.hear(message, now) if isinstance(message, schema.Sighting) else []
            for event in events + announcer.due(now):
                notify.tell(event, now)
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + STATS_EVERY_S
                publisher.send(schema.DELIVERY, "notify", notify.stats())
    finally:
        subscriber.close()
        publisher.close()
        notify.close()
