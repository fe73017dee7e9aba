"""The sightings service's side of visitor ids without a pipeline: which frames of a sighting are encoded, that the
encoder thread answers every job it takes (a real face, a broken frame) and refuses work when full, and a sighting
decided from real frames of the Bill Clinton clip, stored, and matched again."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from services.sightings.book import Appearance, NameScore
from services.sightings.encoder import EncodeJob, FaceEncoder, encode_face
from services.sightings.images import RecentFrames
from services.sightings.visitors import ENCODE_SPACING_S, MIN_FACE_PX, Samples, Visitors
from shared.bus import schema
from shared.faces.matcher import load_background
from shared.faces.visitors import MAX_ENCODINGS, VisitorIndex
from shared.sightings import store, visitor_store
from shared.sightings.database import make_engine, upgrade
from tests.harness import wait_for


def test_a_sightings_faces_are_encoded_a_second_apart_a_few_times_when_large_enough() -> None:
    samples = Samples(Appearance("door", 1, 0.0, 0.0, 0.0))
    assert samples.due(10.0, MIN_FACE_PX) and not samples.due(10.0, MIN_FACE_PX - 1)
    samples.asked, samples.waiting, samples.last_asked_ts = 1, 1, 10.0
    assert not samples.due(10.0 + ENCODE_SPACING_S / 2, 100), "too soon after the last"
    assert samples.due(10.0 + ENCODE_SPACING_S, 100)
    samples.waiting, samples.encodings = 0, [np.zeros(128)] * MAX_ENCODINGS
    assert not samples.due(100.0, 100), "it has all it needs"
    assert samples.enough()
    failing = Samples(Appearance("door", 2, 0.0, 0.0, 0.0), asked=2 * MAX_ENCODINGS)
    assert not failing.due(100.0, 100) and not failing.enough(), "a face that keeps failing stops costing work"
    assert Samples(Appearance("door", 3, 0.0, 0.0, 0.0), last_asked_ts=-math.inf).due(0.0, 100)


@pytest.fixture(scope="module")
def bill_frames(data_dir: Path) -> list[tuple[bytes, schema.BusBox]]:
    """JPEGs of the Bill Clinton clip a second or more apart, with his face's box, found as the workers find it."""
    from shared.boxes import to_normalised
    from shared.faces.detect import find_faces

    video = cv2.VideoCapture(str(data_dir / "video_bill_clinton" / "Bill_Clinton.avi"))
    frames = []
    for index in range(int(30 * 20)):
        ok, frame = video.read()
        if not ok:
            break
        if index >= 12 * 30 and index % 30 == 0:  # his face from ~11 s on
            boxes = find_faces(frame, 1.0, 1, bgr=True)
            if len(boxes) == 1:
                jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
                frames.append((jpeg, to_normalised(boxes[0], frame.shape[1], frame.shape[0])))
    video.release()
    assert len(frames) >= 6
    return frames


def test_the_encoder_answers_every_job_and_refuses_when_full(bill_frames: list) -> None:
    encoder = FaceEncoder(queue_size=2)
    jpeg, box = bill_frames[0]
    assert encoder.submit(EncodeJob(1, jpeg, box)) and encoder.submit(EncodeJob(2, b"\xff\xd8 not a frame", box))
    assert not encoder.submit(EncodeJob(3, jpeg, box)), "the queue holds two: the third is refused, not queued"
    encoder.start()
    answers: list = []

    def both_answered() -> bool:
        answers.extend(encoder.finished())
        return len(answers) == 2

    wait_for(both_answered, 60, "an answer to each job")
    encoder.stop()
    by_job = {answer.row_id: answer.encoding for answer in answers}
    assert by_job[2] is None, "a frame that does not decode is answered None"
    assert by_job[1] is not None and by_job[1].shape == (128,)
    assert np.allclose(by_job[1], encode_face(jpeg, box)), "the thread encodes as encode_face does"


def test_a_stranger_is_one_visitor_across_sightings_and_an_appearance_says_so(
    bill_frames: list, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sightings.db'}")
    upgrade(engine)
    encoder = FaceEncoder()
    encoder.start()
    visitors = Visitors(engine, VisitorIndex(load_background()), encoder)
    frames = RecentFrames(keep_s=1000.0)

    def appear(camera: str, shown: list, start: float) -> Appearance:
        """A sighting of these frames, as the service would feed them to its visitors, decided at its close."""
        appearance = Appearance(camera, 1, start, start, 0.0, frames=len(shown))
        appearance.row_id = store.add(engine, camera, 1, schema.UNKNOWN, start, 70.0)
        appearance.scores[schema.UNKNOWN] = NameScore(1.0, 70.0)
        for offset, (jpeg, box) in enumerate(shown):
            capture_ts = start + offset * ENCODE_SPACING_S
            frames.add(camera, offset, capture_ts, jpeg)
            result = schema.Result(
                camera=camera,
                frame_id=offset,
                capture_ts=capture_ts,
                worker="w",
                width=480,
                height=360,
                faces=[],
                timings=schema.Timings(),
                published_ts=capture_ts,
            )
            visitors.offer(appearance, box, result, frames)
        wait_for(lambda: visitors.collect() or visitors.ready_to_close(appearance, 0.0), 60, "its encodings")
        visitors.settle(appearance)
        return appearance

    door = appear("door", bill_frames[:3], 1000.0)
    yard = appear("yard", bill_frames[3:6], 2000.0)
    assert door.visitor is not None and yard.visitor == door.visitor
    found = visitor_store.get(engine, door.visitor)
    assert found is not None and found.sightings == 2 and found.cameras == ["door", "yard"]
    assert store.get(engine, yard.row_id).visitor == door.visitor  # type: ignore[arg-type, union-attr]
    assert door.message("leave", 1.0).visitor == door.visitor, "the bus says which visitor it was"
    # the web forgets him (no word to the service): his next sighting cannot join the forgotten id, and is new
    visitor_store.forget(engine, door.visitor)
    again = appear("door", bill_frames[:3], 3000.0)
    encoder.stop()
    assert again.visitor is not None and again.visitor != door.visitor and door.visitor not in visitors.index
    assert visitor_store.get(engine, again.visitor).sightings == 1  # type: ignore[union-attr]
    engine.dispose()
