"""Enrolling the faces folder: real photos, the cache, and photos that must be skipped."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from shared.faces.gallery import load_gallery
from shared.people.layout import person_photos


@pytest.fixture
def faces(data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "faces"
    shutil.copytree(data_dir / "video_hamilton" / "reference", folder)
    shutil.copy(
        data_dir / "images_no_face" / sorted(p.name for p in (data_dir / "images_no_face").glob("*.jpg"))[0],
        folder / "Barack_Obama" / "not-a-face.jpg",
    )
    group = sorted((data_dir / "images_multi_face").glob("*.jpg"))[0]
    (folder / "Crowd").mkdir()
    shutil.copy(group, folder / "Crowd" / "group.jpg")
    (folder / "Alex_Lacamoire" / "broken.jpg").write_bytes(b"this is not a picture")
    shutil.copy(data_dir / "lfw_dev" / "images" / "AJ_Cook" / "AJ_Cook_0001.jpg", folder / "AJ_Cook.jpg")
    return folder


def test_the_folder_layouts_are_both_read(faces: Path) -> None:
    people = {person for person, _ in person_photos(faces)}
    assert people == {"Alex_Lacamoire", "Barack_Obama", "Lin_Manuel_Miranda", "Crowd", "AJ_Cook"}


def test_bad_photos_are_skipped_with_a_reason_and_the_cache_makes_restarts_fast(
    faces: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    started = time.perf_counter()
    gallery = load_gallery(faces, tmp_path / "data")
    cold_s = time.perf_counter() - started
    assert set(gallery.people) == {"Alex_Lacamoire", "Barack_Obama", "Lin_Manuel_Miranda", "AJ_Cook"}
    assert len(gallery) == 7  # 3 + 2 + 1 + 1 good photos
    log = caplog.text
    assert "not-a-face.jpg (for Barack_Obama): no face found" in log
    assert "group.jpg (for Crowd):" in log and "faces found; use a photo with exactly one" in log
    assert "broken.jpg (for Alex_Lacamoire): not a readable image" in log
    assert (tmp_path / "data" / "cache").is_dir() and not any(p.name.startswith("encodings") for p in faces.rglob("*"))

    caplog.clear()
    started = time.perf_counter()
    again = load_gallery(faces, tmp_path / "data")
    warm_s = time.perf_counter() - started
    assert "(0 newly encoded" in caplog.text
    assert (again.encodings == gallery.encodings).all() and list(again.names) == list(gallery.names)
    assert warm_s < cold_s
