"""What each receiver is sent: a webhook's JSON, and a notification as ntfy or Gotify take it.

ntfy (https://docs.ntfy.sh/publish/) takes the text as the body and the rest
as headers: ``Title``, ``Priority`` (1-5, 3 the default), ``Tags`` (emoji
names) and ``Click`` (the link the notification opens). Headers are ASCII, so
a title with other letters (李娜 arrived) goes in RFC 2047 form, which ntfy
decodes. Gotify (``POST /message?token=...``) takes JSON with ``title``,
``message``, ``priority`` (0-10) and the click link in ``extras``.

The snapshot is only ever a link: it opens facestream's own page, behind its
login, so no face goes to a push service (ntfy.sh is someone else's server).
"""

from __future__ import annotations

import json
import time
from email.header import Header

from services.notify.outbox import Request
from shared.log import untrusted
from shared.people.names import display_name
from shared.sightings.events import SightingEvent

NTFY_PRIORITY = {"unknown": "4", "known": "3"}
"""ntfy's 'high' for a stranger (a long vibration), its default for a person arriving."""
NTFY_TAGS = {"unknown": "warning", "known": "wave"}
GOTIFY_PRIORITY = {"unknown": 8, "known": 5}
"""Gotify's Android app sounds from 4 and pops up from 8."""
HEADER_TEXT_CHARS = 200
USER_AGENT = "facestream"


def header_text(text: str) -> str:
    """A header value from text someone else may have written (a name off the bus): control characters escaped,
    cut short, and in RFC 2047 form when it is not ASCII."""
    safe = untrusted(text, HEADER_TEXT_CHARS)
    return safe if safe.isascii() else Header(safe, "utf-8").encode()


def webhook_request(event: SightingEvent, public_url: str | None) -> Request:
    """The event's JSON, as MQTT's ``<prefix>/events`` carries it."""
    body = json.dumps(event.as_json(public_url), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return Request(body, headers, _what(event))


def title(event: SightingEvent) -> str:
    return f"{display_name(event.name)} arrived" if event.known else f"Unknown person at {event.camera}"


def text(event: SightingEvent) -> str:
    seen = time.strftime("%H:%M:%S", time.localtime(event.start))
    if event.known:
        return f"{display_name(event.name)} seen on {event.camera} at {seen} ({event.confidence:.0f} % sure)."
    return f"A face nobody enrolled, seen on {event.camera} at {seen}."


def _link(event: SightingEvent, public_url: str | None) -> str | None:
    """The snapshot's address, when there is a whole one (PUBLIC_URL): a phone cannot open a bare path."""
    link = event.as_json(public_url)["snapshot_url"]
    return link if isinstance(link, str) and link.startswith(("http://", "https://")) else None


def ntfy_request(event: SightingEvent, public_url: str | None) -> Request:
    kind = "known" if event.known else "unknown"
    headers = {
        "Title": header_text(title(event)),
        "Priority": NTFY_PRIORITY[kind],
        "Tags": NTFY_TAGS[kind],
        "Content-Type": "text/plain; charset=utf-8",
        "User-Agent": USER_AGENT,
    }
    if link := _link(event, public_url):
        headers["Click"] = link
    return Request(text(event).encode(), headers, _what(event))


def gotify_request(event: SightingEvent, public_url: str | None) -> Request:
    kind = "known" if event.known else "unknown"
    body: dict[str, object] = {"title": title(event), "message": text(event), "priority": GOTIFY_PRIORITY[kind]}
    if link := _link(event, public_url):
        body["extras"] = {"client::notification": {"click": {"url": link}}}
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return Request(json.dumps(body, ensure_ascii=False).encode(), headers, _what(event))


PUSH_FORMATS = {"ntfy": ntfy_request, "gotify": gotify_request}


def _what(event: SightingEvent) -> str:
    return f"{event.type} of {untrusted(event.name, 64)} on {event.camera} (sighting {event.sighting_id})"
