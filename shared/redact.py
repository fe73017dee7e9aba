"""Secrets out of sight: a camera URI's password, and secret query values, masked wherever a URI is shown.

A source such as ``rtsp://admin:secret@door/live`` carries the camera's
password; it must reach OpenCV as it is and nothing else: not the API, the
pages, the bus's status messages, the banner or a log line. Every place that
shows a source shows :func:`mask_uri` of it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_QUERY_KEYS = {"password", "passwd", "pass", "pwd", "token", "key", "secret", "auth", "apikey", "api_key"}
"""Query parameters whose values are secrets (many cameras take ``?user=admin&password=...``)."""

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<password>[^@/\s]*)@")


def mask_uri(uri: str) -> str:
    """The URI with any password and secret query value replaced by ``***``; anything else as it is."""
    masked = _USERINFO.sub(lambda match: f"{match['scheme']}{match['user']}:{MASK}@", uri)
    if "://" not in masked or "?" not in masked:
        return masked
    try:
        parts = urlsplit(masked)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return masked
    if not any(key.lower() in SECRET_QUERY_KEYS for key, _ in query):
        return masked
    hidden = [(key, MASK if key.lower() in SECRET_QUERY_KEYS else value) for key, value in query]
    return urlunsplit(parts._replace(query=urlencode(hidden, safe="*")))


def mask_text(text: str, uris: list[str]) -> str:
    """A message (an OpenCV or ffmpeg error, say) with every given URI in it replaced by its masked form."""
    for uri in sorted(set(uris), key=len, reverse=True):
        if uri and uri in text:
            text = text.replace(uri, mask_uri(uri))
    return mask_uri(text)


def mask_endpoint(url: str) -> str:
    """An http(s) receiver's URL as logs and banners show it: scheme, host and port, the rest ``/***``. Its path is
    often the secret itself: an ntfy topic, a Home Assistant webhook id (``/api/webhook/<id>``), a Slack hook."""
    masked = mask_uri(url)
    try:
        parts = urlsplit(masked)
    except ValueError:
        return MASK
    if not parts.netloc:
        return MASK
    hidden = "/" + MASK if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{hidden}"
