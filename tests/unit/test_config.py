"""Settings: defaults, file, environment (which wins), and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.config import Camera, ConfigError, load_config, parse_sources

KEYS = (
    "SOURCE",
    "SOURCE_FILE",
    "API_TOKEN",
    "API_TOKEN_FILE",
    "WORKERS",
    "EVERY_N",
    "SCALE",
    "TOLERANCE",
    "PORT",
    "FACES_DIR",
    "DATA_DIR",
    "MIN_DETECT_WIDTH",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    config_file = tmp_path / "facestream.toml"
    monkeypatch.setenv("CONFIG_FILE", str(config_file))
    return config_file


def test_defaults_are_the_documented_ones() -> None:
    settings = load_config()
    assert (settings.every_n, settings.scale, settings.min_detect_width, settings.tolerance, settings.port) == (
        2,
        0.25,
        320,
        0.6,
        8080,
    )
    assert settings.workers >= 1


def test_the_environment_beats_the_file(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    clean_environment.write_text('workers = 3\nport = 9000\nsource = "none"\n')
    monkeypatch.setenv("PORT", "9100")
    settings = load_config()
    assert settings.workers == 3 and settings.port == 9100


@pytest.mark.parametrize(
    ("key", "value"),
    [("WORKERS", "0"), ("SCALE", "2"), ("PORT", "http"), ("TOLERANCE", "-1"), ("SOURCE", "a=0,a=1")],
)
def test_a_bad_value_names_its_key(monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=key):
        load_config()


def test_an_unknown_key_in_the_file_is_an_error(clean_environment: Path) -> None:
    clean_environment.write_text("wrokers = 3\n")
    with pytest.raises(ConfigError, match="WROKERS"):
        load_config()


def test_sources_parse_into_named_cameras() -> None:
    assert parse_sources("none") == []
    assert parse_sources("0") == [Camera("cam0", "0")]
    assert parse_sources("door=rtsp://10.0.0.5/live, desk=1") == [
        Camera("door", "rtsp://10.0.0.5/live"),
        Camera("desk", "1"),
    ]
    assert parse_sources("clip.mp4,http://host/video?a=b") == [
        Camera("cam0", "clip.mp4"),
        Camera("cam1", "http://host/video?a=b"),
    ]


def test_bus_endpoints_follow_the_first_port() -> None:
    settings = load_config(bus_port=6000, broker_host="10.0.0.2", broker_bind="0.0.0.0")
    assert settings.bus_endpoint("publish") == "tcp://10.0.0.2:6000"
    assert settings.bus_endpoint("subscribe") == "tcp://10.0.0.2:6001"
    assert settings.bus_endpoint("dispatch", bind=True) == "tcp://*:6002"


def test_secrets_come_from_files_so_they_never_sit_on_a_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "source").write_text("door=rtsp://admin:secret@127.0.0.1:8554/live\n")
    (tmp_path / "token").write_text("a-token-of-more-than-16-chars\n")
    monkeypatch.setenv("SOURCE_FILE", str(tmp_path / "source"))
    monkeypatch.setenv("API_TOKEN_FILE", str(tmp_path / "token"))
    settings = load_config()
    assert settings.cameras == [Camera("door", "rtsp://admin:secret@127.0.0.1:8554/live")]
    assert settings.api_token == "a-token-of-more-than-16-chars"


def test_a_bad_setting_is_reported_without_the_secret_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE", "door=rtsp://admin:secret@cam/live,door=rtsp://admin:secret@cam/2")
    monkeypatch.setenv("API_TOKEN", "short-secret")
    with pytest.raises(ConfigError) as error:
        load_config()
    assert "secret" not in str(error.value)
    assert "SOURCE" in str(error.value) and "API_TOKEN" in str(error.value)


def test_a_missing_secret_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOURCE_FILE", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="SOURCE_FILE: cannot read"):
        load_config()
