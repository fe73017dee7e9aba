"""The people CLI (``python -m services.people``) run as a user runs it: a subprocess, real photos, real folders.

Locally it writes to a temporary FACES_DIR and DATA_DIR given in the
environment, as the services would; with ``--server`` it drives a real web
service started by the harness. Exit codes are part of the contract: 0 done,
1 some files skipped, 2 bad usage or input.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest
import zmq

from tests.harness import ROOT, Pipeline, free_port_block, wait_for

pytestmark = pytest.mark.integration


class Cli:
    """Runs the CLI with its own FACES_DIR, DATA_DIR and bus port (so no running facestream is touched)."""

    def __init__(self, workdir: Path, **extra_env: str) -> None:
        self.faces = workdir / "faces"
        self.data = workdir / "data"
        self.env = {key: value for key, value in os.environ.items() if key not in ("API_TOKEN",)}
        self.env.update(
            FACES_DIR=str(self.faces),
            DATA_DIR=str(self.data),
            CONFIG_FILE=str(workdir / "no-config.toml"),
            BUS_PORT=str(free_port_block(3)),
            PYTHONUNBUFFERED="1",
        )
        self.env.update(extra_env)

    def __call__(self, *args: str | Path, timeout_s: float = 180.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.people", *map(str, args)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def json(self, *args: str | Path) -> object:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def photos_of(self, name: str) -> list[Path]:
        folder = self.faces / name
        return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture()
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture(scope="module")
def photos(data_dir: Path) -> dict[str, Path]:
    lfw = data_dir / "lfw_dev" / "images"
    return {
        "lin": data_dir / "video_hamilton" / "reference" / "Lin_Manuel_Miranda" / "lin-manuel-miranda.png",
        "no_face": data_dir / "images_no_face" / "davisking__dog.jpg",
        "group": data_dir / "images_multi_face" / "ageitgey__two_people.jpg",
        "stranger": lfw / "AJ_Cook" / "AJ_Cook_0001.jpg",
        "clip": data_dir / "video_hamilton" / "short_hamilton_clip.mp4",
        "lfw": lfw,
    }


def cached_keys(data: Path) -> set[str]:
    """The content hashes of every photo outcome in the encoding cache."""
    entries = msgpack.unpackb((data / "cache" / "encodings-v1.msgpack").read_bytes(), raw=False)
    return {key.split(":")[0] for key in entries}


def test_add_keeps_good_photos_and_explains_the_rest(cli: Cli, photos: dict[str, Path], tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    done = cli("add", "Lin-Manuel Miranda", photos["lin"], photos["no_face"], notes, photos["group"])
    assert done.returncode == 1, done
    assert "Kept 2 of 4" in done.stdout
    skipped = done.stdout.split("Skipped 2:")[1]
    assert f"{photos['no_face']}: no face found" in skipped
    assert f"{notes}: not an image" in skipped
    assert "2 faces found; the largest was cut out and enrolled" in done.stdout
    assert "[4/4]" in done.stderr, "without a terminal, progress is one plain line per file"
    assert "\r" not in done.stderr
    kept = cli.photos_of("Lin-Manuel Miranda")
    assert len(kept) == 2
    assert {hashlib.sha256(path.read_bytes()).hexdigest() for path in kept} <= cached_keys(cli.data), (
        "each kept photo's encoding is in the cache, so workers reload without encoding"
    )


def test_bad_input_is_refused_with_the_reason_and_exit_code_2(cli: Cli, photos: dict[str, Path]) -> None:
    for name, message in [("../x", "must not contain '/'"), ("Unknown", "reserved"), ("semi;colon", "use letters")]:
        done = cli("add", name, photos["lin"])
        assert done.returncode == 2 and message in done.stderr, (name, done)
    done = cli("add", "Ada", "/no/such/photo.jpg")
    assert done.returncode == 2 and "no such file" in done.stderr
    assert cli("frobnicate").returncode == 2
    assert cli("add", "Ada").returncode == 2, "a name without photos is a usage error"
    assert not cli.faces.exists() or not any(cli.faces.iterdir()), "nothing is written for refused input"


def test_a_dataset_is_imported_listed_renamed_recognised_and_removed(
    cli: Cli, photos: dict[str, Path], tmp_path: Path
) -> None:
    dataset = tmp_path / "dataset"
    enrolled = {"Ana_Guevara": 3, "Geoff_Hoon": 3}
    for person, count in enrolled.items():
        (dataset / person).mkdir(parents=True)
        for photo in sorted((photos["lfw"] / person).glob("*.jpg"))[:count]:
            shutil.copy(photo, dataset / person / photo.name)
    (dataset / ".DS_Store").write_bytes(b"\0\0")
    done = cli("import", dataset)
    assert done.returncode == 0, done
    assert "Kept 6 of 6 file(s) for 2 person(s)" in done.stdout

    people = cli.json("list")
    assert [(person["name"], person["photos"]) for person in people] == sorted(enrolled.items())
    assert all(person["added"] > 0 for person in people)
    listed = cli("list")
    assert listed.returncode == 0 and "Ana_Guevara" in listed.stdout and "2 person(s), 6 photo(s)" in listed.stdout

    done = cli("rename", "Ana_Guevara", "Ana Gabriela Guevara")
    assert done.returncode == 0, done
    assert [person["name"] for person in cli.json("list")] == ["Ana Gabriela Guevara", "Geoff_Hoon"]
    done = cli("rename", "Geoff_Hoon", "Ana Gabriela Guevara")
    assert done.returncode == 2 and "exists already" in done.stderr
    done = cli("rename", "Nobody", "Somebody")
    assert done.returncode == 2 and "no person named" in done.stderr

    unseen = sorted((photos["lfw"] / "Ana_Guevara").glob("*.jpg"))[-1]  # a photo that was not enrolled
    answer = cli.json("recognize", unseen)
    assert [face["name"] for face in answer["faces"]] == ["Ana Gabriela Guevara"]
    x, y, w, h = answer["faces"][0]["box"]
    assert 0 <= x < x + w <= 1 and 0 <= y < y + h <= 1 and answer["faces"][0]["confidence"] > 50
    done = cli("recognize", photos["stranger"])
    assert done.returncode == 0 and "Unknown" in done.stdout and "box x=" in done.stdout, done
    assert "Ana Gabriela Guevara" not in done.stdout and "Geoff_Hoon" not in done.stdout

    done = cli("remove", "Geoff_Hoon")
    assert done.returncode == 0, done
    assert [person["name"] for person in cli.json("list")] == ["Ana Gabriela Guevara"]
    assert cli("remove", "Geoff_Hoon").returncode == 2


def test_import_reports_what_belongs_to_nobody(cli: Cli, photos: dict[str, Path], tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    (dataset / "Lin").mkdir(parents=True)
    shutil.copy(photos["lin"], dataset / "Lin" / "lin.png")
    (dataset / "Lin" / "notes.txt").write_text("words")
    (dataset / "Unknown").mkdir()
    shutil.copy(photos["lin"], dataset / "Unknown" / "lin.png")
    (dataset / "README.txt").write_text("a dataset")
    done = cli("import", dataset)
    assert done.returncode == 1, done
    assert "Kept 1 of 4" in done.stdout
    assert "notes.txt: not an image" in done.stdout
    assert "is reserved" in done.stdout
    assert "README.txt: not in a person's folder" in done.stdout


def test_capture_keeps_distinct_sharp_frames_of_one_face(cli: Cli, photos: dict[str, Path]) -> None:
    done = cli("capture", "Lin", "--source", photos["clip"], "--count", "5")
    assert done.returncode == 0, done
    assert "kept 5/5" in done.stdout and "Kept 5 of 5" in done.stdout
    assert len(cli.photos_of("Lin")) == 5, "five different frames, stored as five photos"
    answer = cli.json("recognize", photos["lin"])
    assert [face["name"] for face in answer["faces"]] == ["Lin"]
    missing = cli("capture", "Lin", "--source", "/no/such/clip.mp4", "--count", "5")
    assert missing.returncode == 2 and "no such video file" in missing.stderr


class BusWatch:
    """The ``people.`` and ``workers.`` messages of a running pipeline, read with pyzmq and msgpack only."""

    def __init__(self, bus_port: int) -> None:
        self.socket = zmq.Context.instance().socket(zmq.SUB)
        for prefix in (b"people.", b"workers."):
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix)
        self.socket.connect(f"tcp://127.0.0.1:{bus_port + 1}")
        self.seen: list[tuple[str, dict]] = []

    def find(self, topic_prefix: str, predicate) -> dict | None:
        """Read what has arrived; the first message so far of that topic satisfying ``predicate``."""
        while self.socket.poll(0):
            topic, body = self.socket.recv_multipart()
            self.seen.append((topic.decode(), msgpack.unpackb(body)))
        return next((body for topic, body in self.seen if topic.startswith(topic_prefix) and predicate(body)), None)

    def close(self) -> None:
        self.socket.close(linger=0)


def test_beside_a_running_service_and_through_its_api(tmp_path: Path, photos: dict[str, Path]) -> None:
    pipeline = Pipeline.configure(tmp_path / "service", source="none", workers="1")
    (tmp_path / "service" / "faces").mkdir(parents=True)
    bus = BusWatch(pipeline.bus_port)
    try:
        pipeline.start()
        token_file = Path(pipeline.env["DATA_DIR"]) / "api-token"
        token = wait_for(lambda: token_file.read_text().strip(), 10, "the API token file")
        served_faces = Path(pipeline.env["FACES_DIR"])

        # Locally, on the service's own folders: the change is announced and the worker reloads from the cache.
        beside = Cli(tmp_path / "service", BUS_PORT=str(pipeline.bus_port))
        ana = sorted((photos["lfw"] / "Ana_Guevara").glob("*.jpg"))[0]
        done = beside("add", "Ana", ana)
        assert done.returncode == 0, done
        announced = wait_for(
            lambda: bus.find("people.", lambda body: "Ana" in body["change"]), 10, "the CLI's people.changed message"
        )
        assert announced["v"] == 1
        wait_for(
            lambda: bus.find("workers.", lambda body: body["people"] == ["Ana"]),
            10,
            "the worker to announce a gallery with Ana",
        )
        assert "(0 newly encoded" in pipeline.log("infer") and "(1 newly encoded" not in pipeline.log("infer"), (
            "the worker found the CLI's encoding in the cache instead of encoding the photo again"
        )

        # Through the API, from a machine with an empty FACES_DIR of its own.
        cli = Cli(tmp_path / "client")
        server = ["--server", pipeline.base_url]
        wrong = tmp_path / "wrong-token"
        wrong.write_text("wrong-token-wrong-token\n")
        done = cli(*server, "--token-file", wrong, "add", "Lin", photos["lin"])
        assert done.returncode == 2 and "401" in done.stderr, done
        done = cli(*server, "add", "Lin", photos["lin"], photos["no_face"])
        assert done.returncode == 2 and "no token given" in done.stderr, "no token anywhere: said so, exit 2"

        done = cli(*server, "--token-file", token_file, "add", "Lin", photos["lin"], photos["no_face"])
        assert done.returncode == 1, done
        assert "Kept 1 of 2" in done.stdout and "no face found" in done.stdout
        assert len(list((served_faces / "Lin").iterdir())) == 1 and not cli.faces.exists()

        cli.env["API_TOKEN"] = token  # the token may also come from the environment
        listed = cli.json(*server, "list")
        assert [(person["name"], person["photos"]) for person in listed] == [("Ana", 1), ("Lin", 1)]
        answer = cli.json(*server, "recognize", photos["lin"])
        assert [face["name"] for face in answer["faces"]] == ["Lin"]
        assert cli(*server, "rename", "Lin", "Lin-Manuel").returncode == 0
        assert cli(*server, "rename", "Lin", "X").returncode == 2
        assert cli(*server, "add", "../x", photos["lin"]).returncode == 2

        del cli.env["API_TOKEN"]
        cli.env["DATA_DIR"] = pipeline.env["DATA_DIR"]  # and from DATA_DIR/api-token, as on the server's machine
        done = cli("remove", "Lin-Manuel", *server)
        assert done.returncode == 0, done
        assert [person["name"] for person in cli.json(*server, "list")] == ["Ana"]
        assert pipeline.stop() == 0
    finally:
        bus.close()
        pipeline.kill_leftovers()
