"""Reading a photo: the size is judged from the header before decoding, and a truncated file is refused always."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from shared.faces.photo import PhotoTooLarge, TruncatedPhoto, check_dimensions, read_rgb
from shared.people.photos import BadPhoto, TooLargePhoto, read_image


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" + bytes(width * 3))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.radial_gradient("L").resize((width, height)).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def test_the_limit_is_in_megapixels() -> None:
    check_dimensions(8000, 5000, 40)  # exactly 40 MP
    with pytest.raises(PhotoTooLarge, match="8000x8000 pixels .64 megapixels.; at most 40"):
        check_dimensions(8000, 8000, 40)
    with pytest.raises(PhotoTooLarge):
        check_dimensions(100, 100, 0.001)


def test_a_header_claiming_a_huge_picture_is_refused_without_decoding() -> None:
    for width, height in [(8000, 8000), (30000, 30000)]:  # 30000^2 is past Pillow's own bomb limit too
        with pytest.raises(TooLargePhoto, match="megapixels"):
            read_image(png_claiming(width, height), 40)
        with pytest.raises(PhotoTooLarge):
            read_rgb(png_claiming(width, height), 40)


def test_a_photo_under_the_limit_is_read_upright() -> None:
    rgb, suffix = read_image(jpeg(320, 200), 40)
    assert rgb.shape == (200, 320, 3) and suffix == ".jpg"
    with pytest.raises(TooLargePhoto):
        read_image(jpeg(320, 200), 0.05)


@pytest.mark.parametrize("lenient", [False, True])
def test_a_truncated_jpeg_is_refused_whatever_the_global_flag(lenient: bool) -> None:
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = lenient
    try:
        whole = jpeg(640, 480)
        with pytest.raises(TruncatedPhoto):
            read_rgb(whole[: len(whole) // 2])
        with pytest.raises(BadPhoto, match="truncated"):
            read_image(whole[: len(whole) // 2])
        assert ImageFile.LOAD_TRUNCATED_IMAGES is lenient, "the process-wide flag is left as it was"
        assert read_rgb(whole).shape == (480, 640, 3)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
