"""Which cameras a receiver keeps state for: its configured ones, and a bounded few learnt from the bus.

A capture process on another machine is a camera nobody configured here, so
receivers learn cameras from the bus. But anyone can publish on the bus: each
forged camera name would otherwise cost every receiver a tracker, counters,
metrics labels and a card on the page, for good. So at most
:data:`MAX_LEARNT_CAMERAS` are learnt at a time, and one silent for
:data:`FORGET_LEARNT_AFTER_S` is forgotten (it is learnt again when it speaks).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_LEARNT_CAMERAS = 64
"""Cameras learnt from the bus beyond the configured ones: a building's worth."""
FORGET_LEARNT_AFTER_S = 180.0
"""A learnt camera that has sent nothing for this long is forgotten."""


class CameraRoster:
    """The cameras this process keeps state for. Not thread-safe: one owner (the web's Hub has its own lock)."""

    def __init__(self, configured: Iterable[str]) -> None:
        self.configured = frozenset(configured)
        self._learnt: dict[str, float] = {}
        """Learnt camera -> when it was last heard (monotonic seconds)."""
        self.refused = 0
        """Messages of cameras not admitted: a new name while the roster was full."""

    def admit(self, camera: str, now: float) -> bool:
        """Whether a message of this camera is taken; a new camera is learnt if there is room."""
        if camera in self.configured:
            return True
        if camera not in self._learnt and len(self._learnt) >= MAX_LEARNT_CAMERAS:
            self.forget_silent(now)
            if len(self._learnt) >= MAX_LEARNT_CAMERAS:
                self.refused += 1
                return False
        self._learnt[camera] = now
        return True

    def forget_silent(self, now: float) -> list[str]:
        """Forget the learnt cameras silent for too long; their names, so the caller drops their state."""
        silent = [camera for camera, heard in self._learnt.items() if now - heard > FORGET_LEARNT_AFTER_S]
        for camera in silent:
            del self._learnt[camera]
        return silent

    def learnt(self) -> list[str]:
        """The cameras learnt from the bus and not yet forgotten."""
        return list(self._learnt)
