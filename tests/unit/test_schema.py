"""The bus schema: what goes out comes back the same, and anything else is refused with a reason."""

from __future__ import annotations

import cv2
import msgpack
import numpy as np
import pytest

from shared.bus import schema


def _result(**changes: object) -> schema.Result:
    fields: dict = dict(
        camera="cam0",
        frame_id=12,
        capture_ts=1700000000.5,
        worker="w-1",
        width=640,
        height=360,
        faces=[schema.Face(box=(0.1, 0.2, 0.3, 0.4), name="Ada", distance=0.41, confidence=97.5)],
        timings=schema.Timings(detect_ms=20.0, total_ms=44.0),
        published_ts=1700000000.6,
    )
    fields.update(changes)
    return schema.Result(**fields)


def test_a_result_survives_the_round_trip() -> None:
    result = _result()
    assert schema.unpack_body([schema.topic(schema.FACES, "cam0"), schema.pack(result)]) == result


def test_a_result_is_plain_msgpack_for_other_programs() -> None:
    body = msgpack.unpackb(schema.pack(_result()))
    assert body["v"] == schema.VERSION
    assert body["faces"][0] == {
        "v": 1,
        "box": [0.1, 0.2, 0.3, 0.4],
        "name": "Ada",
        "distance": 0.41,
        "confidence": 97.5,
        "track_id": None,
        "motion": [0.0, 0.0],
    }


def small_jpeg(width: int = 64, height: int = 36) -> bytes:
    return cv2.imencode(".jpg", np.zeros((height, width, 3), np.uint8))[1].tobytes()


def claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header (SOF0) changed to claim another size: a few bytes, any number of pixels."""
    at = jpeg.index(b"\xff\xc0") + 5
    return jpeg[:at] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + jpeg[at + 4 :]


def test_a_frame_message_is_checked_and_its_jpeg_kept_as_is() -> None:
    header = schema.FrameHeader(camera="cam0", frame_id=3, ts=1.5, width=640, height=360)
    jpeg = small_jpeg(640, 360)
    parsed, image = schema.unpack_frame([schema.topic(schema.FRAMES, "cam0"), schema.pack(header), jpeg])
    assert parsed == header and image is jpeg


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ([b"frames.cam0", msgpack.packb({"v": 2, "camera": "c"}), b"\xff\xd8xx"], "unknown version v=2"),
        ([b"frames.cam0", b"\xc1", b"\xff\xd8xx"], "not msgpack"),
        ([b"frames.cam0", msgpack.packb([1, 2]), b"\xff\xd8xx"], "expected a map"),
        (
            [
                b"frames.cam0",
                msgpack.packb({"v": 1, "camera": "c", "frame_id": -1, "ts": 0, "width": 1, "height": 1}),
                b"\xff\xd8xx",
            ],
            "frame_id",
        ),
        (
            [
                b"frames.cam0",
                schema.pack(schema.FrameHeader(camera="c", frame_id=0, ts=0, width=1, height=1)),
                b"GIF89a",
            ],
            "not a JPEG",
        ),
        ([b"frames.cam0", b"only two parts"], "3 parts"),
    ],
)
def test_bad_frame_messages_are_refused_with_a_reason(parts: list[bytes], reason: str) -> None:
    with pytest.raises(schema.SchemaError, match=reason):
        schema.unpack_frame(parts)


def test_a_frame_claiming_more_pixels_than_anyone_decodes_is_refused_undecoded() -> None:
    header = schema.FrameHeader(camera="cam0", frame_id=0, ts=1.0, width=30_000, height=30_000)
    for claimed in [(30_000, 30_000), (9000, 9000)]:  # past Pillow's own bomb limit, and past only ours
        with pytest.raises(schema.SchemaError, match="at most 40 megapixels"):
            schema.unpack_frame([b"frames.cam0", schema.pack(header), claiming(small_jpeg(), *claimed)])
    eight_k = claiming(small_jpeg(), 7680, 4320)
    assert schema.unpack_frame([b"frames.cam0", schema.pack(header), eight_k])[1] is eight_k


def test_bad_bodies_are_refused() -> None:
    with pytest.raises(schema.SchemaError, match="unknown topic kind"):
        schema.unpack_body([b"gossip.cam0", schema.pack(_result())])
    with pytest.raises(schema.SchemaError, match="confidence"):
        schema.unpack_body(
            [
                b"faces.cam0",
                msgpack.packb(
                    {
                        **msgpack.unpackb(schema.pack(_result())),
                        "faces": [{"box": [0, 0, 1, 1], "name": "x", "confidence": 101}],
                    }
                ),
            ]
        )


def test_newer_senders_may_add_fields() -> None:
    body = {**msgpack.unpackb(schema.pack(_result())), "added_in_a_later_release": True}
    assert schema.unpack(schema.Result, msgpack.packb(body)).frame_id == 12
