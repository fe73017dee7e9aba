"""A camera's password never shows: masked in URIs and in messages that quote them."""

from __future__ import annotations

import pytest

from shared.redact import mask_text, mask_uri


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("rtsp://admin:secret@192.0.2.7:554/live", "rtsp://admin:***@192.0.2.7:554/live"),
        ("http://u:p%40ss@cam/video.mjpg", "http://u:***@cam/video.mjpg"),
        ("rtsp://cam/live?user=admin&password=hunter2", "rtsp://cam/live?user=admin&password=***"),
        ("https://cam/x?token=abc&fps=5", "https://cam/x?token=***&fps=5"),
        ("rtsp://viewer@cam/live", "rtsp://viewer@cam/live"),
        ("0", "0"),
        ("clips/door.mp4", "clips/door.mp4"),
    ],
)
def test_passwords_and_secret_query_values_are_masked_the_rest_kept(uri: str, shown: str) -> None:
    assert mask_uri(uri) == shown


def test_a_message_quoting_the_uri_is_masked_too() -> None:
    uri = "rtsp://admin:secret@door/live"
    message = mask_text(f"cannot open {uri} (connection refused)", [uri])
    assert "secret" not in message and "rtsp://admin:***@door/live" in message
