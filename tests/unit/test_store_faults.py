"""The faces folder's store and the encoding cache when things go wrong: exact deletes, full and read-only disks.

A full or read-only folder is a real file system: a small tmpfs (mounting
needs root; without it those tests skip saying so).
"""

from __future__ import annotations

import errno
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import msgpack
import numpy as np
import pytest

from shared.faces.encoding_cache import cache_for, content_digest, remember
from shared.faces.gallery import load_gallery
from shared.faces.photo import PhotoOutcome
from shared.people.store import Conflict, PeopleStore
from tests.filesystems import fill, mounted


def cached(data_dir: Path) -> set[str]:
    path = data_dir / "cache" / "encodings-v1.msgpack"
    return {key.partition(":")[0] for key in msgpack.unpackb(path.read_bytes(), raw=False)}


def outcome() -> PhotoOutcome:
    return PhotoOutcome("ok", np.zeros(128), faces=1)


@pytest.fixture
def store(tmp_path: Path) -> PeopleStore:
    (tmp_path / "faces").mkdir()
    return PeopleStore(tmp_path / "faces", tmp_path / "data")


def test_deleting_ada_leaves_grace_whose_single_photo_shares_a_name_with_one_of_ada(store: PeopleStore) -> None:
    faces, data = store.faces_dir, store.data_dir
    assert data is not None
    (faces / "Grace_Hopper.jpg").write_bytes(b"grace")
    (faces / "Ada").mkdir()
    (faces / "Ada" / "Grace_Hopper.jpg").write_bytes(b"ada-1")
    (faces / "Ada.png").write_bytes(b"ada-2")  # a single photo too: also Ada's
    for photo in (b"grace", b"ada-1", b"ada-2"):
        remember(data, 1, photo, outcome())
        remember(data, 2, photo, outcome())  # another setting's key: forgotten as well
    store.remove_person("Ada")
    assert sorted(path.name for path in faces.iterdir()) == ["Grace_Hopper.jpg"]
    assert cached(data) == {content_digest(b"grace")}
    assert [person.name for person in store.people()] == ["Grace_Hopper"]


def test_deleting_a_photo_forgets_its_encoding(store: PeopleStore) -> None:
    assert store.data_dir is not None
    kept = store.add_photo("Ada", b"one", ".jpg")
    gone = store.add_photo("Ada", b"two", ".jpg")
    remember(store.data_dir, 1, b"one", outcome())
    remember(store.data_dir, 1, b"two", outcome())
    store.remove_photo("Ada", gone.id)
    assert cached(store.data_dir) == {content_digest(b"one")}
    assert [photo.id for photo in store.person("Ada").photos] == [kept.id]


def test_names_that_collide_with_files_are_conflicts_not_crashes(store: PeopleStore) -> None:
    faces = store.faces_dir
    (faces / "X.jpg").write_bytes(b"x")
    with pytest.raises(Conflict):
        store.add_photo("X.jpg", b"photo", ".jpg")
    assert (faces / "X.jpg").read_bytes() == b"x"
    (faces / "Notes").mkdir()
    (faces / "Notes" / "notes.txt").write_text("not a photo")
    store.add_photo("Ada", b"photo", ".jpg")
    with pytest.raises(Conflict):
        store.rename("Ada", "Notes")
    assert [person.name for person in store.people()] == ["Ada", "X"]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "small"
    with mounted(target, "-t", "tmpfs", "-o", "size=128k", "tmpfs"):
        yield target


def test_a_full_disk_leaves_no_partial_upload(tmpfs: Path) -> None:
    store = PeopleStore(tmpfs)
    (tmpfs / "Ada").mkdir()
    fill(tmpfs)
    with pytest.raises(OSError) as raised:
        store.add_photo("Ada", bytes(64 * 1024), ".jpg")
    assert raised.value.errno == errno.ENOSPC
    assert [path.name for path in (tmpfs / "Ada").iterdir()] == []


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_gallery_loads_with_a_cache_it_cannot_write(
    tmp_path: Path, tmpfs: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    faces = tmp_path / "faces"
    (faces / "Ada").mkdir(parents=True)
    (faces / "Ada" / "broken.jpg").write_bytes(b"not an image")  # an outcome to cache, without loading dlib
    cache_for(tmpfs, 1).folder.mkdir()
    if fault == "full":
        (tmpfs / "cache" / "encodings.lock").touch()
        fill(tmpfs / "cache")
    else:
        remount_read_only(tmpfs)
    with caplog.at_level(logging.WARNING):
        gallery = load_gallery(faces, tmpfs, 1)
    assert len(gallery) == 0
    assert "going on with the encodings in memory" in caplog.text or "without the lock" in caplog.text
    assert not [path for path in (tmpfs / "cache").iterdir() if path.name.startswith(".encodings-")]


def test_forgetting_on_a_full_cache_removes_the_cache_file(store: PeopleStore, tmpfs: Path) -> None:
    data = tmpfs
    remember(data, 1, b"ada", outcome())
    remember(data, 1, b"grace", outcome())
    (store.faces_dir / "Ada").mkdir()
    (store.faces_dir / "Ada" / "a.jpg").write_bytes(b"ada")
    fill(data / "cache")
    PeopleStore(store.faces_dir, data).remove_person("Ada")
    assert not (data / "cache" / "encodings-v1.msgpack").exists(), "a cache that cannot be rewritten goes whole"
    assert not (store.faces_dir / "Ada").exists()
