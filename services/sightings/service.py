"""The sightings service's loop: results and frames in, rows, pictures and appear/leave messages out.

Subscribes to every camera's ``faces.`` results and ``frames.`` JPEGs. Each
result updates the open sightings (services/sightings/book.py); a new one
is stored at once (it needs its row id for the bus), the running ones are
saved once a second, a closed one at its close. When a face is the best of
its sighting so far, its crop is cut from the JPEG of that very frame, kept
for a few seconds as received (services/sightings/images.py); a stranger's
only with STORE_UNKNOWN_IMAGES. That frame is published as ``snapshots.<camera>``
once saved. An Unknown sighting's faces are encoded on the side to give it a
visitor id (services/sightings/visitors.py); the known people changing
(``people.changed``) may mean a visitor was named.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.sightings import retention
from services.sightings.book import Appearance, Book, Seen
from services.sightings.images import RecentFrames, remove_pictures, save_pictures
from services.sightings.visitors import Visitors
from shared.bus import schema
from shared.bus.sockets import Publisher, Subscriber
from shared.config import Settings
from shared.log import RateLimitedLog
from shared.process import StartupError
from shared.redact import mask_uri
from shared.sightings import store, visitor_store
from shared.sightings.closing import close_after
from shared.sightings.database import database_url, images_dir, make_engine, upgrade

log = logging.getLogger("sightings")

SAVE_EVERY_S = 1.0
"""Open sightings' end and frame count are written this often, not on every result: one write a second per
camera at most, and a crash loses at most a second of an appearance."""
FRAMES_HWM = 200
"""Frames queued for this subscriber before ZeroMQ drops: it must not lose the frame a result names while it
writes to the database, yet a long stall must not become a backlog."""


class Sightings:
    """The service's state: the open sightings, recent frames, the database and the bus."""

    def __init__(
        self, settings: Settings, engine: Engine, publisher: Publisher, visitors: Visitors | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.visitors = visitors
        self.book = Book(close_after(settings.track_max_age_s))
        self.frames = RecentFrames(settings.max_frame_age_s + 2.0)
        self.pictures = images_dir(settings)
        self.trouble = RateLimitedLog(log)
        self.closing: list[tuple[Appearance, float]] = []
        """Sightings gone from view, with when they went, waiting for their visitor to be decided."""

    def frame(self, header: schema.FrameHeader, jpeg: object) -> None:
        self.frames.add(header.camera, header.frame_id, header.ts, jpeg)

    def result(self, result: schema.Result, heard: float) -> None:
        for seen in self.book.observe(result, heard):
            self._seen(seen, result)

    def _seen(self, seen: Seen, result: schema.Result) -> None:
        appearance = seen.appearance
        if seen.opened:
            appearance.row_id = store.add(
                self.engine,
                appearance.camera,
                appearance.track_id,
                appearance.name,
                appearance.start,
                appearance.confidence,
            )
            appearance.saved_name = appearance.name
            self._say(appearance, "appear")
        elif seen.renamed:
            if self.visitors is not None and appearance.name != schema.UNKNOWN:
                self.visitors.named(appearance)
            self._say(appearance, "named")
            self._save(appearance)
        if self.visitors is not None:
            self.visitors.offer(appearance, seen.box, result, self.frames)
        keep_pictures = appearance.name != schema.UNKNOWN or self.settings.store_unknown_images
        if seen.better_face is not None and appearance.row_id is not None and keep_pictures:
            jpeg = self.frames.find(result.camera, result.frame_id, result.capture_ts)
            if jpeg is None:
                return  # its frame never came (or came too late): the next good face will do
            paths = save_pictures(self.pictures, appearance.row_id, appearance.start, jpeg, seen.better_face)
            if paths is None:
                return
            appearance.image_name, appearance.image_confidence = appearance.name, appearance.confidence
            store.save(self.engine, appearance.row_id, face_path=paths[0], snapshot_path=paths[1])
            header = schema.SnapshotHeader(
                id=appearance.row_id, camera=appearance.camera, name=appearance.name, ts=time.time()
            )
            self.publisher.send_snapshot(header, jpeg)  # for the MQTT bridge's snapshot topic: no one reads the disk

    def _say(self, appearance: Appearance, event: Literal["appear", "named", "leave"]) -> None:
        message = appearance.message(event, time.time())
        appearance.said_name = message.name
        self.publisher.send(schema.SIGHTINGS, appearance.camera, message)

    def _save(self, appearance: Appearance) -> None:
        if appearance.row_id is None:
            return
        values: dict[str, object] = {
            "end_ts": appearance.end,
            "frames": appearance.frames,
            "confidence": appearance.confidence,
        }
        if appearance.name != appearance.saved_name:
            values["name"] = appearance.saved_name = appearance.name
        store.save(self.engine, appearance.row_id, **values)
        if appearance.visitor is not None:
            visitor_store.seen_again(self.engine, appearance.visitor)

    def poll(self, heard: float) -> None:
        """After every message (or a quiet wait): the visitors decided meanwhile, and the sightings that closed."""
        if self.visitors is None:
            return
        for appearance in self.visitors.collect():
            if appearance.row_id is not None and (appearance.camera, appearance.track_id) in self.book.open:
                self._say(appearance, "named")
        self._finish_closing(heard)

    def tick(self, heard: float) -> None:
        """Once a second: save the open sightings, close those gone."""
        self.closing += [(appearance, heard) for appearance in self.book.expire(heard)]
        self._finish_closing(heard)
        for appearance in self.book.open.values():
            self._save(appearance)

    def _finish_closing(self, heard: float, waiting: bool = True) -> None:
        """Close the sightings gone from view whose visitor is decided (or that waited long enough for it)."""
        still = []
        for appearance, since in self.closing:
            if self.visitors is not None:
                if waiting and not self.visitors.ready_to_close(appearance, heard - since):
                    still.append((appearance, since))
                    continue
                self.visitors.settle(appearance)
            self._close(appearance)
        self.closing = still

    def _close(self, appearance: Appearance) -> None:
        self._save(appearance)
        self._keep_no_stranger_pictures(appearance)
        if appearance.row_id is not None:
            self._say(appearance, "leave")
            log.info(
                "%s left %s after %.1f s (%d frames, sighting %d)",
                appearance.name,
                appearance.camera,
                appearance.end - appearance.start,
                appearance.frames,
                appearance.row_id,
            )

    def _keep_no_stranger_pictures(self, appearance: Appearance) -> None:
        """With STORE_UNKNOWN_IMAGES off, a sighting that ends Unknown loses the pictures cut while it was named."""
        if self.settings.store_unknown_images or appearance.name != schema.UNKNOWN or appearance.row_id is None:
            return
        if remove_pictures(self.pictures, appearance.start, appearance.row_id):
            store.save(self.engine, appearance.row_id, face_path=None, snapshot_path=None)

    def close_all(self) -> None:
        """Stopping: every open sighting is saved and said to have left, so each appear has its leave (decided
        with the encodings already made: the encoder is not waited for)."""
        if self.visitors is not None:
            self.visitors.collect()
        self.closing += [(appearance, 0.0) for appearance in self.book.close_all()]
        self._finish_closing(0.0, waiting=False)

    def people_changed(self) -> None:
        """Someone was enrolled, renamed or removed: maybe a visitor was named, who is then matched no more."""
        if self.visitors is not None:
            self.visitors.names_changed()

    def sweep(self) -> None:
        swept = retention.enforce(
            self.engine,
            self.pictures,
            time.time(),
            self.settings.retain_days,
            self.settings.retain_unknown_days,
        )
        if self.visitors is not None and swept.visitors:
            self.visitors.reload(swept.visitors)


def open_database(settings: Settings) -> Engine:
    """The engine, with the schema brought up to date; a StartupError naming the database when it cannot be."""
    url = database_url(settings)
    engine = make_engine(url)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        raise StartupError(f"cannot open the sightings database {mask_uri(url)}: {error}", exit_code=1) from None
    log.info("sightings database %s at the newest schema", mask_uri(url))
    return engine


def serve(settings: Settings, stop: threading.Event) -> None:
    """Keep sightings until stopped."""
    engine = open_database(settings)
    visitors = Visitors.start(settings, engine) if settings.visitors else None
    publisher = Publisher(settings)
    subscriber = Subscriber(settings, [schema.FACES + ".", schema.FRAMES + ".", schema.PEOPLE + "."], hwm=FRAMES_HWM)
    service = Sightings(settings, engine, publisher, visitors)
    schedule = retention.Schedule()
    next_tick = time.monotonic() + SAVE_EVERY_S
    try:
        while not stop.is_set():
            received = subscriber.receive(100)
            now = time.monotonic()
            try:
                if received is not None and received[0] == schema.FRAMES:
                    service.frame(received[1], received[2])
                elif received is not None and received[0] == schema.FACES:
                    service.result(received[1], now)
                elif received is not None and received[0] == schema.PEOPLE:
                    service.people_changed()
                service.poll(now)
                if now >= next_tick:
                    next_tick = now + SAVE_EVERY_S
                    service.tick(now)
                if schedule.due(now):
                    service.sweep()
            except (SQLAlchemyError, OSError) as error:  # a database or disk hiccup: keep the bus read
                service.trouble.warning("could not store a sighting", f"{type(error).__name__}: {error}")
    finally:
        try:
            service.close_all()
        except (SQLAlchemyError, OSError) as error:
            log.warning("could not save the open sightings at stop: %s", error)
        if visitors is not None:
            visitors.stop()
        subscriber.close()
        publisher.close()
        engine.dispose()
