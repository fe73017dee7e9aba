"""Labels on the stream in every script (issue 16): each name drawn in a font that has its characters.

OpenCV's built-in font drew every non-ASCII letter as "?": two Chinese names
came out as the same pixels. These draw real labels with the fonts
scripts/install-fonts.sh installs, and skip (a failure in CI) without them.
"""

from __future__ import annotations

import numpy as np
import pytest

from services.web import label_fonts, overlay
from shared.bus import schema

NAMES = {
    "Chinese": ("王芳", "张伟"),
    "Devanagari": ("अनिल", "सुनील"),
    "Arabic": ("محمد", "أحمد"),
    "Cyrillic": ("Зоя", "Юрий"),
    "Latin with marks": ("Ngũgĩ", "Zoë"),
}


def needs_font_for(name: str) -> None:
    characters = "".join(sorted({char for char in name if not char.isascii()}))
    if label_fonts.font_file_for(characters) is None:
        pytest.skip(f"no installed font covers {name!r}: run scripts/install-fonts.sh as root")


def face(name: str) -> schema.Face:
    return schema.Face(box=(0.3, 0.4, 0.2, 0.3), name=name, confidence=87.0)


def frame_with(name: str) -> np.ndarray:
    return overlay.draw_faces(np.zeros((360, 640, 3), np.uint8), [face(name)])


@pytest.mark.parametrize("script", sorted(NAMES))
def test_two_names_in_one_script_draw_different_labels(script: str) -> None:
    first, second = NAMES[script]
    needs_font_for(first + second)
    assert not np.array_equal(frame_with(first), frame_with(second)), f"{first} and {second} drew the same pixels"


def test_a_name_no_font_covers_is_still_drawn_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    """A private-use character is in no font: the label is still drawn, and the log says what to install."""
    name = "Ada \ue000"
    with caplog.at_level("WARNING", logger=label_fonts.__name__):
        assert frame_with(name).any()
        frame_with(name)
    warnings = [record for record in caplog.records if "fonts-noto" in record.getMessage()]
    assert len(warnings) == 1, [record.getMessage() for record in caplog.records]


def test_a_label_stays_inside_the_frame_at_every_edge() -> None:
    for box in [(0.0, 0.0, 0.2, 0.2), (0.95, 0.95, 0.05, 0.05), (0.0, 0.9, 1.0, 0.1)]:
        frame = np.zeros((120, 160, 3), np.uint8)
        named = schema.Face(box=box, name="Alexandria Ocasio-Cortez", confidence=99.0)
        overlay.draw_faces(frame, [named])  # a label wider than the frame is cut, never an IndexError
        assert frame.any()
