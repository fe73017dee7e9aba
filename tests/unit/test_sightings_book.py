"""The sightings service's rules without a pipeline: when a sighting opens, what it is called, which face is
kept, when it closes; and that a crop is cut from the frame a result names."""

from __future__ import annotations

import cv2
import numpy as np

from services.sightings.book import Book
from services.sightings.images import RecentFrames, cut_face
from shared.bus import schema
from shared.sightings.closing import CLOSE_AFTER_S, close_after


def result(camera: str, frame_id: int, ts: float, *faces: tuple[int, str, float]) -> schema.Result:
    return schema.Result(
        camera=camera,
        frame_id=frame_id,
        capture_ts=ts,
        worker="w",
        width=640,
        height=360,
        faces=[
            schema.Face(box=(0.4, 0.3, 0.2, 0.3), name=name, confidence=confidence, track_id=track)
            for track, name, confidence in faces
        ],
        timings=schema.Timings(),
        published_ts=ts,
    )


def test_a_track_opens_once_is_named_by_its_surest_frames_and_closes_after_its_silence() -> None:
    book = Book()
    [first] = book.observe(result("door", 1, 100.0, (7, "Unknown", 60.0)), heard=0.0)
    assert first.opened and first.better_face is not None and first.appearance.name == "Unknown"
    first.appearance.said_name, first.appearance.image_name, first.appearance.image_confidence = (
        "Unknown",
        "Unknown",
        60,
    )
    [again] = book.observe(result("door", 2, 100.1, (7, "Unknown", 60.5)), heard=0.1)
    assert not again.opened and not again.renamed and again.better_face is None, "half a point is not a better face"
    [once] = book.observe(result("door", 3, 100.2, (7, "Ada", 95.0)), heard=0.2)
    assert not once.renamed and once.better_face is None, "one frame of 95 does not outweigh 60 + 60.5"
    [named] = book.observe(result("door", 4, 100.3, (7, "Ada", 96.0)), heard=0.3)
    assert named.renamed and named.appearance.name == "Ada", "95 + 96 outweigh 60 + 60.5"
    assert named.better_face is not None, "the first face under the new name is its best so far"
    book.observe(result("door", 5, 100.4, (7, "Unknown", 40.0)), heard=0.3)  # one odd frame keeps the name
    appearance = book.open[("door", 7)]
    assert (appearance.name, appearance.confidence, appearance.frames, appearance.start, appearance.end) == (
        "Ada",
        96.0,
        5,
        100.0,
        100.4,
    )
    # the same track id on another camera is another sighting
    [other] = book.observe(result("hall", 1, 100.3, (7, "Unknown", 70.0)), heard=0.3)
    assert other.opened
    assert book.expire(heard=0.3 + CLOSE_AFTER_S - 0.01) == []
    assert {a.camera for a in book.expire(heard=0.3 + CLOSE_AFTER_S)} == {"door", "hall"}
    assert book.open == {}


def test_closing_waits_longer_than_the_tracker_keeps_a_track() -> None:
    assert close_after(1.0) == CLOSE_AFTER_S and close_after(10.0) == 12.0


def test_the_crop_comes_from_the_frame_the_result_names() -> None:
    frames = RecentFrames(keep_s=2.0)
    picture = np.zeros((360, 640, 3), np.uint8)
    picture[108:216, 256:384] = 255  # the face's box, white
    jpeg = cv2.imencode(".jpg", picture)[1].tobytes()
    frames.add("door", 5, 10.0, jpeg)
    frames.add("door", 6, 10.1, b"\xff\xd8 another")
    assert frames.find("door", 5, 10.0) == jpeg
    assert frames.find("door", 5, 11.0) is None, "a restarted capture counts from 0 again: the time must match"
    frames.add("door", 7, 12.5, b"\xff\xd8 later")
    assert frames.find("door", 5, 10.0) is None, "older than keep_s: let go"
    crop = cut_face(jpeg, (0.4, 0.3, 0.2, 0.3))
    assert crop is not None and crop[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded.shape[1] > 128 and decoded.shape[0] > 108, "a margin around the box"
    assert decoded[decoded.shape[0] // 2, decoded.shape[1] // 2] > 200
    assert cut_face(b"\xff\xd8 not a picture", (0.1, 0.1, 0.2, 0.2)) is None
