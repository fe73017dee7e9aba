"""The sightings service's loop: results and frames in, rows, pictures and appear/leave messages out.

Subscribes to every camera's ``faces.`` results and ``frames.`` JPEGs. Each
result updates the open sightings (services/sightings/book.py); a new one
is stored at once (it needs its row id for the bus), the running ones are
saved once a second, a closed one at its close. When a face is the best of
its sighting so far, its crop is cut from the JPEG of that very frame, kept
for a few seconds as received (services/sightings/images.py), and that frame
is published as ``snapshots.<camera>`` once saved.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.sightings import retention
from services.sightings.book import Appearance, Book, Seen, close_after
from services.sightings.images import RecentFrames, save_pictures
from shared.bus import schema
from shared.bus.sockets import Publisher, Subscriber
from shared.config import Settings
from shared.log import RateLimitedLog
from shared.process import StartupError
from shared.redact import mask_uri
from shared.sightings import store
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

    def __init__(self, settings: Settings, engine: Engine, publisher: Publisher) -> None:
        self.settings = settings
        self.engine = engine
        self.publisher = publisher
        self.book = Book(close_after(settings.track_max_age_s))
        self.frames = RecentFrames(settings.max_frame_age_s + 2.0)
        self.pictures = images_dir(settings)
        self.trouble = RateLimitedLog(log)

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
            self._say(appearance, "appear")
        elif seen.renamed:
            self._say(appearance, "named")
            self._save(appearance)
        if seen.better_face is not None and appearance.row_id is not None:
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
        store.save(
            self.engine,
            appearance.row_id,
            end_ts=appearance.end,
            frames=appearance.frames,
            name=appearance.name,
            confidence=appearance.confidence,
        )

    def tick(self, heard: float) -> None:
        """Once a second: save the open sightings, close those gone."""
        for appearance in self.book.expire(heard):
            self._close(appearance)
        for appearance in self.book.open.values():
            self._save(appearance)

    def _close(self, appearance: Appearance) -> None:
        self._save(appearance)
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

    def close_all(self) -> None:
        """Stopping: every open sighting is saved and said to have left, so each appear has its leave."""
        for appearance in self.book.close_all():
            self._close(appearance)

    def sweep(self) -> None:
        retention.enforce(
            self.engine,
            self.pictures,
            time.time(),
            self.settings.retain_days,
            self.settings.retain_unknown_days,
        )


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
    publisher = Publisher(settings)
    subscriber = Subscriber(settings, [schema.FACES + ".", schema.FRAMES + "."], hwm=FRAMES_HWM)
    service = Sightings(settings, engine, publisher)
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
        subscriber.close()
        publisher.close()
        engine.dispose()
