"""The launcher's pre-flight rules: typos questioned, missing files named, taken ports seen, one lock per DATA_DIR."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from services.launch.banner import banner
from services.launch.preflight import PreflightError, hold_lock, missing_files, mistyped_settings, port_taken
from shared.config import load_config


def test_names_near_a_setting_are_questioned_and_others_left_alone() -> None:
    warnings = mistyped_settings({"SORUCE": "x", "WORKRES": "2", "SOURCE": "y", "PATH": "/bin", "HOME": "/root"})
    assert warnings == [
        "SORUCE is not a setting: did you mean SOURCE?",
        "WORKRES is not a setting: did you mean WORKERS?",
    ]
    assert mistyped_settings({"XDG_RUNTIME_DIR": "/run", "VIRTUAL_ENV": "/v", "lowercase": "x"}) == []


def test_a_missing_file_is_named_in_the_banner(tmp_path: Path) -> None:
    present = tmp_path / "here.mp4"
    present.write_bytes(b"")
    settings = load_config(
        data_dir=tmp_path / "data", faces_dir=tmp_path / "faces", source=f"a={present},b={tmp_path / 'gone.mp4'},c=0"
    )
    problems = missing_files(settings)
    assert problems == [f"camera b: file not found: {tmp_path / 'gone.mp4'}"]
    assert f"warning: camera b: file not found: {tmp_path / 'gone.mp4'}" in banner(settings, problems)


def test_a_listening_port_is_seen_as_taken() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_taken("127.0.0.1", port)
    assert not port_taken("127.0.0.1", port)


def test_one_lock_per_data_dir(tmp_path: Path) -> None:
    held = hold_lock(tmp_path / "run")
    with pytest.raises(PreflightError, match="already running with this DATA_DIR"):
        hold_lock(tmp_path / "run")
    os.close(held)
    os.close(hold_lock(tmp_path / "run"))
