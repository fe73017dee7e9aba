"""A newcomer's usual mistakes, made on purpose against a running installation: each is refused or warned in one
clear line, with a non-zero exit where nothing should start, and the running installation is left untouched."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import ROOT, Pipeline, free_port_block, processes_with_marker, running_pipeline, wait_for

pytestmark = pytest.mark.integration

NOT_STARTED = 3


@pytest.fixture(scope="module")
def first(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The installation already running: one camera, one worker."""
    workdir = tmp_path_factory.mktemp("first")
    (workdir / "faces").mkdir()
    with running_pipeline(
        workdir,
        source=f"hamilton={data_dir / 'video_hamilton' / 'short_hamilton_clip.mp4'}",
        workers="1",
        workers_ready=1,
    ) as running:
        yield running


def launch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m services.launch`` as make run starts it; it must return on its own (a refusal is immediate)."""
    return subprocess.run(
        [sys.executable, "-m", "services.launch", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def second(tmp_path: Path, first: Pipeline, **overrides: str) -> dict[str, str]:
    """Another installation's settings: its own folders and ports unless told otherwise."""
    env = Pipeline.configure(tmp_path, source="none", workers="1").env
    env.update({key.upper(): value for key, value in overrides.items()})
    return env


def untouched(first: Pipeline, before: dict) -> None:
    """The running installation still has exactly its own cameras and workers, and is healthy."""
    assert first.get("/healthz")[0] == 200
    cameras = [camera["id"] for camera in first.get_json("/api/cameras")["cameras"]]
    assert cameras == before["cameras"], "another installation's camera joined this one"
    assert len(processes_with_marker(first.marker)) == before["processes"]


@pytest.fixture()
def before(first: Pipeline) -> dict:
    return {
        "cameras": [camera["id"] for camera in first.get_json("/api/cameras")["cameras"]],
        "processes": len(processes_with_marker(first.marker)),
    }


def test_a_second_installation_on_the_same_bus_port_refuses_to_start(
    first: Pipeline, before: dict, tmp_path: Path, data_dir: Path
) -> None:
    clip = data_dir / "video_hamilton" / "short_hamilton_clip.mp4"
    refused = launch(second(tmp_path, first, bus_port=first.env["BUS_PORT"], source=f"intruder={clip}"))
    assert refused.returncode == NOT_STARTED, refused
    assert f"port {first.env['BUS_PORT']} (BUS_PORT) is taken" in refused.stderr and "set BUS_PORT" in refused.stderr
    assert "facestream is starting" not in refused.stdout, "no banner for an installation that does not start"
    untouched(first, before)


def test_a_taken_web_port_is_named(first: Pipeline, before: dict, tmp_path: Path) -> None:
    refused = launch(second(tmp_path, first, port=first.env["PORT"]))
    assert refused.returncode == NOT_STARTED, refused
    assert f"port {first.env['PORT']} (PORT) is taken" in refused.stderr and "set PORT" in refused.stderr
    untouched(first, before)


def test_the_same_data_dir_twice_is_refused_with_the_running_pid(first: Pipeline, before: dict, tmp_path: Path) -> None:
    refused = launch(second(tmp_path, first, data_dir=first.env["DATA_DIR"]))
    assert refused.returncode == NOT_STARTED, refused
    supervisord = (Path(first.env["DATA_DIR"]) / "run" / "supervisord.pid").read_text().strip()
    assert "already running with this DATA_DIR" in refused.stderr and f"pid {supervisord}" in refused.stderr
    untouched(first, before)


def test_a_mistyped_setting_is_questioned(tmp_path: Path, first: Pipeline) -> None:
    env = second(tmp_path, first)
    env["SORUCE"] = "clip.mp4"
    printed = launch(env, "--print-config")
    assert printed.returncode == 0, printed
    assert "SORUCE is not a setting: did you mean SOURCE?" in printed.stderr
    assert "PATH" not in printed.stderr, "only names close to a setting are questioned"


def watching(env: dict[str, str], folder: Path, *args: str) -> tuple[subprocess.Popen, Path, Path]:
    out, err = folder / "watch.out", folder / "watch.err"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.watch", *args], cwd=ROOT, env=env, stdout=out.open("w"), stderr=err.open("w")
    )
    return process, out, err


def test_watch_says_where_it_listens_and_prints_readable_results(first: Pipeline, tmp_path: Path) -> None:
    process, out, err = watching(first.env, tmp_path, "--camera", "hamilton", "--text")
    try:
        wait_for(lambda: "hamilton frame" in out.read_text(), 30, "a readable result line from watch")
        assert f"listening on tcp://127.0.0.1:{int(first.env['BUS_PORT']) + 1}" in err.read_text()
    finally:
        process.terminate()
        process.wait(10)


def test_watch_warns_when_nothing_arrives(first: Pipeline, tmp_path: Path) -> None:
    env = dict(first.env, BUS_PORT=str(free_port_block(3)))  # nobody there
    process, _, err = watching(env, tmp_path)
    try:
        wait_for(lambda: "nothing from" in err.read_text(), 15, "watch to say it hears nothing")
        assert "BUS_PORT" in err.read_text()
    finally:
        process.terminate()
        process.wait(10)
    assert subprocess.run([sys.executable, "-m", "services.watch", "--help"], cwd=ROOT, timeout=30).returncode == 0


def test_the_start_says_nothing_about_privileges(first: Pipeline) -> None:
    """As root supervisord said "CRIT Supervisor is running as root" or, told user=root, "Set uid to user 0"."""
    said = (first.workdir / "launch.out").read_text(errors="replace")
    assert "facestream is starting" in said or "Press Ctrl-C" in said, said[-1000:]
    assert "Set uid" not in said and " CRIT " not in said, [line for line in said.splitlines() if "uid" in line]
