"""Keeping a worker's known faces current without a restart and without missing frames.

A thread beside the worker's loop rebuilds the gallery when the bus says the
people changed, or when the faces folder changed on disk (checked each second,
so photos dropped in by hand are picked up too). The new gallery is handed
over through a queue; the loop swaps it in between two frames. Photos added
through the API were encoded on upload, so a rebuild reads them from the cache.
"""

from __future__ import annotations

import logging
import queue
import threading

from shared.config import Settings
from shared.faces.gallery import gallery_for
from shared.faces.matcher import Gallery
from shared.people.layout import folder_signature

DISK_CHECK_S = 1.0


class GalleryReloader(threading.Thread):
    """Rebuilds the gallery in the background whenever the known people change."""

    def __init__(self, settings: Settings, stop: threading.Event, log: logging.Logger) -> None:
        super().__init__(name="gallery-reloader", daemon=True)
        self._settings = settings
        self._stop_event = stop
        self._log = log
        self._poke = threading.Event()
        self._reasons: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._ready: queue.Queue[tuple[Gallery, str]] = queue.Queue(maxsize=1)
        self._signature = folder_signature(settings.faces_dir)

    def load_now(self) -> Gallery:
        """The gallery as it is now (used once, at start, before the thread runs)."""
        self._signature = folder_signature(self._settings.faces_dir)
        return gallery_for(self._settings)

    def request(self, reason: str) -> None:
        """Ask for a rebuild now (the bus announced a change)."""
        self._reasons.put(reason)
        self._poke.set()

    def newest(self) -> tuple[Gallery, str] | None:
        """A freshly built gallery and why it was built, if one is waiting."""
        try:
            return self._ready.get_nowait()
        except queue.Empty:
            return None

    def run(self) -> None:
        while not self._stop_event.is_set():
            poked = self._poke.wait(DISK_CHECK_S)
            self._poke.clear()
            signature = folder_signature(self._settings.faces_dir)
            if not poked and signature == self._signature:
                continue
            reasons = []
            while not self._reasons.empty():
                reasons.append(self._reasons.get())
            self._signature = signature
            try:
                gallery = gallery_for(self._settings)
            except Exception:  # a half-copied folder, a full disk: keep the old gallery, try at the next change
                self._log.exception("reloading the known faces failed; keeping the previous ones")
                continue
            try:
                self._ready.get_nowait()  # an older rebuild nobody took yet is superseded
            except queue.Empty:
                pass
            self._ready.put((gallery, "; ".join(reasons) or "the faces folder changed"))
