"""Labels in any script: a font that has every character of the name, found by fontconfig, drawn by Pillow.

OpenCV's built-in fonts know only ASCII: "Зоя", "王芳" and "अनिल" all came out
as question marks, and two Chinese names as the same pixels. So a label is
drawn by Pillow (with Raqm, which shapes Arabic and Indic scripts) in a font
that fontconfig says covers all of its characters: DejaVu for Latin, Greek,
Cyrillic; Noto for the rest (scripts/install-fonts.sh installs it). fontconfig is
asked once for every font's characters; the font of each set of characters
and each drawn label (text, size, colour) are remembered.
"""

from __future__ import annotations

import bisect
import functools
import logging
import shutil
import subprocess
import sys
import threading

import numpy as np
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

PREFERRED = ("DejaVuSans.ttf", "NotoSans-Regular", "NotoSansCJK-Regular", "NotoSans", "Regular")
"""Among the fonts that cover a label, file names with these in them are taken first (plain sans faces)."""
FONT_LOOKUP_TIMEOUT_S = 5.0
LABEL_CACHE = 512
"""Drawn labels kept: a name and each confidence it is shown with, at each stream size."""

Ranges = list[tuple[int, int]]


class FontCatalog:
    """Every font file fontconfig knows, with the characters it has: asked once, with one ``fc-list``.

    Once, and up front (:func:`catalog` from the app's start): labels are drawn on native threads, where
    gevent's patched subprocess cannot start a process.
    """

    def __init__(self, fonts: dict[str, Ranges]) -> None:
        self._fonts = fonts

    @classmethod
    def from_fontconfig(cls) -> FontCatalog:
        """The installed fonts; none (labels then use Pillow's own font) without fontconfig."""
        fc_list = shutil.which("fc-list")
        if fc_list is None:
            log.warning("fontconfig's fc-list is not installed: names are drawn in Pillow's own font (ASCII only)")
            return cls({})
        try:
            listed = subprocess.run(
                [fc_list, "--format", "%{file}\t%{charset}\n"],
                capture_output=True,
                text=True,
                timeout=FONT_LOOKUP_TIMEOUT_S,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError) as problem:
            log.warning("cannot ask fontconfig for the fonts: %s", problem)
            return cls({})
        fonts: dict[str, Ranges] = {}
        for line in listed.splitlines():
            path, _, charset = line.partition("\t")
            if path.endswith((".ttf", ".otf", ".ttc")):
                fonts[path] = sorted(parse_range(part) for part in charset.split())
        return cls(fonts)

    def covering(self, characters: str) -> list[str]:
        """The font files that have a glyph for every one of ``characters``."""
        wanted = {ord(char) for char in characters if not char.isspace()}
        return [path for path, ranges in self._fonts.items() if all(has(ranges, code) for code in wanted)]


def parse_range(text: str) -> tuple[int, int]:
    """fontconfig's ``20-7e`` or ``a0`` (hexadecimal) as (first, last)."""
    first, _, last = text.partition("-")
    return int(first, 16), int(last or first, 16)


def has(ranges: Ranges, code: int) -> bool:
    """Whether ``code`` lies in one of the sorted ``ranges``."""
    index = bisect.bisect_right(ranges, (code, sys.maxunicode + 1)) - 1
    return index >= 0 and ranges[index][0] <= code <= ranges[index][1]


_unfound_lock = threading.Lock()
_unfound: set[str] = set()
"""Sets of characters no font covers, said once each."""
_catalog_lock = threading.Lock()
_catalog: FontCatalog | None = None


def catalog() -> FontCatalog:
    """The font catalog, made on the first call (the web calls it at start)."""
    global _catalog
    with _catalog_lock:
        if _catalog is None:
            _catalog = FontCatalog.from_fontconfig()
        return _catalog


def preference(path: str) -> tuple[int, int, str]:
    """Sort key: plain sans faces first, bold and italic last, then the shorter (more basic) file name."""
    name = path.rsplit("/", 1)[-1]
    rank = next((index for index, part in enumerate(PREFERRED) if part in name), len(PREFERRED))
    styled = any(style in name for style in ("Bold", "Italic", "Oblique", "Light", "Condensed", "Mono", "Serif"))
    return (int(styled), rank, f"{len(name):04d}{name}")


@functools.lru_cache(maxsize=256)
def font_file_for(characters: str) -> str | None:
    """The best font file for a set of characters (sorted, as a string), or None when no installed font has them all."""
    covering = catalog().covering(characters)
    return min(covering, key=preference) if covering else None


@functools.lru_cache(maxsize=64)
def load_font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font at a pixel size; Pillow's own when there is no file."""
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)


def font_for(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font that draws every character of ``text``; when none is installed, say so once and use Pillow's own."""
    characters = "".join(sorted({char for char in text if not char.isascii()})) or "A"  # every font has ASCII
    path = font_file_for(characters)
    if path is None:
        with _unfound_lock:
            first_time = characters not in _unfound
            _unfound.add(characters)
        if first_time:
            log.warning(
                "no installed font has every character of %r: labels may show boxes (install fonts-noto-core and "
                "fonts-noto-cjk, or run scripts/install-fonts.sh as root)",
                text,
            )
    return load_font(path, size)


@functools.lru_cache(maxsize=LABEL_CACHE)
def label_image(text: str, height: int, background: tuple[int, int, int]) -> np.ndarray:
    """The label as a BGR image ``height`` pixels tall: white text on a band of the box's colour (BGR)."""
    font = font_for(text, max(8, round(height * 0.75)))
    left, top, right, bottom = font.getbbox(text)
    padding = max(2, height // 8)
    width = max(1, int(right - left) + 2 * padding)
    canvas = Image.new("RGB", (width, height), tuple(reversed(background)))
    text_height = bottom - top
    ImageDraw.Draw(canvas).text(
        (padding - left, (height - text_height) / 2 - top), text, font=font, fill=(255, 255, 255)
    )
    bgr = np.asarray(canvas)[:, :, ::-1].copy()
    bgr.setflags(write=False)  # shared by every frame that shows it
    return bgr
