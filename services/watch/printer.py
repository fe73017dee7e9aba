"""How ``services.watch`` shows what it hears: JSON lines for programs, or one readable line per result."""

from __future__ import annotations

import json
import time
from typing import Any

from shared.bus import schema
from shared.people.names import display_name

QUIET_WARNING_S = 5.0
"""Say so when nothing arrives for this long: a wrong BUS_PORT or BROKER_HOST looks exactly like silence."""


def as_json(message: Any) -> str:
    return json.dumps(message.model_dump(mode="json"))


def as_text(message: Any) -> str:
    """A result as a person reads it; any other message as its JSON."""
    if isinstance(message, schema.Result):
        stamp = time.strftime("%H:%M:%S", time.localtime(message.capture_ts))
        faces = ", ".join(f"{display_name(face.name)} {face.confidence:.0f}%" for face in message.faces)
        return f"{stamp} {message.camera} frame {message.frame_id}: {faces or 'no faces'}"
    return as_json(message)


class QuietWatch:
    """Warns once per silence that nothing has arrived, with what to check."""

    def __init__(self, endpoint: str, started: float) -> None:
        self.endpoint = endpoint
        self.last_heard = started
        self.warned = False

    def heard(self, now: float) -> None:
        self.last_heard, self.warned = now, False

    def warning(self, now: float) -> str | None:
        if self.warned or now - self.last_heard < QUIET_WARNING_S:
            return None
        self.warned = True
        return (
            f"watch: nothing from {self.endpoint} for {QUIET_WARNING_S:.0f} s: is facestream running, "
            "with this BUS_PORT and BROKER_HOST, and a camera live?"
        )
