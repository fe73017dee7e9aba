"""The one typed place where facestream's settings live.

Every service reads its settings through :func:`load_config`, so a key means the
same thing everywhere. Values come from, in rising priority: the defaults below,
a TOML file (``CONFIG_FILE``, or ``facestream.toml`` in the working folder), and
environment variables named like the fields in upper case (``SOURCE``,
``WORKERS``...). A bad value is reported by :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shared.redact import mask_endpoint, mask_uri

DEFAULT_NAME_RATIO = 0.76
"""Largest cohort ratio still named (the NAME_RATIO setting): ~96% of known faces named, ~1% of strangers, on LFW
with 3 photos each (bench/accuracy.py; the rule is in shared/faces/matcher.py)."""

DEFAULT_VISITOR_RATIO = 0.72
"""Largest score at which an Unknown sighting is taken for a visitor seen before (the VISITOR_RATIO setting):
on LFW, one photo per sighting and up to ~1,000 visitors kept, 0.23% of new strangers got an earlier visitor's id
and 71% of returning ones were recognised; chosen on half the people, 0.72 merged none of the other half
(bench/visitors.py; the rule is in shared/faces/visitors.py)."""

CAMERA_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NAMED_SOURCE = re.compile(r"^([A-Za-z0-9_-]{1,32})=(.+)$")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the key and says what is wrong."""


@dataclass(frozen=True)
class Camera:
    """One configured camera: a topic-safe name and the source it reads."""

    name: str
    uri: str


class Webhook(BaseModel):
    """One WEBHOOK_URLS entry: where to post appear/leave events, and which ones (empty lists: all)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="http:// or https:// address the events are POSTed to, as JSON.")
    names: list[str] = Field(
        default_factory=list,
        description="Only events of these people (folder or shown name; 'Unknown' for strangers); empty: everyone.",
    )
    cameras: list[str] = Field(default_factory=list, description="Only events of these cameras; empty: every camera.")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return check_http_url(value)


def default_config_file() -> Path:
    """The TOML file to read: ``CONFIG_FILE`` if set, else ``facestream.toml`` here."""
    return Path(os.environ.get("CONFIG_FILE", "facestream.toml"))


class Settings(BaseSettings):
    """Every setting of every facestream service, with its default and meaning."""

    model_config = SettingsConfigDict(
        extra="forbid",
        case_sensitive=False,
        env_prefix="",
        validate_default=True,
    )

    source: str = Field(
        "auto",
        description=(
            "What to watch: a camera index ('0'), a video file, an rtsp:// or http(s):// URL, "
            "or several as 'name=uri,name=uri'. 'auto' uses the first local camera if there is "
            "one; 'none' starts with no camera."
        ),
    )
    faces_dir: Path = Field(
        Path("faces"), description="Folder of known people: faces/<Name>/*.jpg or faces/<Name>.jpg."
    )
    data_dir: Path = Field(Path("data"), description="Folder facestream writes to: encoding cache, run files, logs.")
    workers: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        le=256,
        description="Number of inference worker processes (default: CPU cores).",
    )
    every_n: int = Field(2, ge=1, le=1000, description="Analyse every Nth frame of each camera.")
    scale: float = Field(
        0.25, gt=0.0, le=1.0, description="Whole-frame pass: shrink the frame by this factor before detection."
    )
    min_detect_width: int = Field(
        320, ge=32, le=8192, description="Whole-frame pass: never detect on a copy narrower than this (px)."
    )
    min_face_px: int | Literal["auto"] = Field(
        "auto",
        description=(
            "Smallest face to find, in pixels of the source frame. Faces smaller than the whole-frame pass sees "
            "(SCALE, MIN_DETECT_WIDTH, UPSAMPLE) are searched at full resolution where something moves, where a "
            "face was, and in a slow sweep of the frame. 'auto': 40 on frames 720 px tall or more, and on "
            "smaller frames the whole-frame pass alone; 0 turns the search off."
        ),
    )
    upsample: int = Field(
        1,
        ge=0,
        le=3,
        description="Whole-frame pass: times detection upsamples the copy (smaller faces, ~4x cost each).",
    )
    detector: Literal["hog", "cnn"] = Field(
        "hog", description="Whole-frame pass detector: 'hog' (fast on CPU) or 'cnn' (more accurate, slow on CPU)."
    )
    tolerance: float = Field(
        0.6,
        gt=0.0,
        lt=2.0,
        description="Outer bound: a face farther than this from every photo of a person is never named as them.",
    )
    name_ratio: float = Field(
        DEFAULT_NAME_RATIO,
        gt=0.3,
        lt=1.5,
        description=(
            "Name a face only if it is at most this fraction as far from the person (with 3 photos) as from its "
            "3 nearest background faces; lower names fewer strangers and fewer known faces."
        ),
    )
    background_file: Path | None = Field(
        None,
        description=(
            "Encodings (.npy, float32, n x 128) of faces of people nobody enrols, that a face is compared with "
            "before it is named; default: the set shipped in shared/faces/background/."
        ),
    )
    reencode_s: float = Field(
        1.0,
        ge=0.0,
        le=60.0,
        description="A tracked face is encoded again after this long (s); sooner while its name is unsure.",
    )
    track_iou: float = Field(
        0.3,
        gt=0.0,
        lt=1.0,
        description="Boxes overlapping at least this much (IoU) in consecutive frames are one face.",
    )
    track_max_age_s: float = Field(1.0, gt=0.0, le=60.0, description="A face unseen for this long (s) loses its track.")
    adaptive_rate: bool = Field(
        True, description="Give idle workers frames between the every-Nth ones (up to every frame); never queue."
    )
    infer_nice: int = Field(
        10, ge=0, le=19, description="Scheduling niceness of inference workers, so capture and web stay smooth."
    )
    port: int = Field(8080, ge=1, le=65535, description="HTTP port of the web service.")
    bind: str = Field("0.0.0.0", description="Address the web service listens on.")
    tls_cert: Path | None = Field(
        None, description="Serve HTTPS with this certificate (PEM, the chain after it); browsers need it for a webcam."
    )
    tls_key: Path | None = Field(None, description="The private key (PEM) of TLS_CERT.")
    allowed_hosts: str = Field(
        "",
        description=(
            "Host names the web service answers to, besides IP addresses and this machine's own names "
            "(comma-separated; '.example.org' allows its subdomains; '*' any, behind a proxy that checks)."
        ),
    )
    broker_host: str = Field("127.0.0.1", description="Host where services reach the broker.")
    broker_bind: str = Field(
        "127.0.0.1", description="Address the broker's sockets listen on ('0.0.0.0' for remote workers)."
    )
    bus_port: int = Field(
        5550,
        ge=1,
        le=65533,
        description=(
            "First of three broker ports: +0 publishers connect, +1 subscribers connect, +2 workers ask for frames."
        ),
    )
    jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of published frames.")
    max_frame_age_s: float = Field(
        1.0, gt=0.0, description="The dispatcher never hands out a frame older than this (s)."
    )
    worker_silence_s: float = Field(
        3.0, gt=0.0, description="A worker silent this long is taken for dead by the dispatcher (s)."
    )
    max_streams_per_client: int = Field(
        8, ge=1, le=10_000, description="Live streams one client address may hold at once (each holds a thread)."
    )
    web_server: Literal["gevent", "threads"] = Field(
        "gevent",
        description=(
            "How the web holds its connections: 'gevent' (one greenlet each, thousands cheaply) or 'threads' "
            "(one thread each, WEB_THREADS at most; the server before gevent, kept to compare against)."
        ),
    )
    web_threads: int = Field(128, ge=4, le=4096, description="Web server threads when WEB_SERVER=threads.")
    web_connections: int = Field(
        2000, ge=10, le=100_000, description="Connections the web holds at once when WEB_SERVER=gevent."
    )
    header_timeout_s: int = Field(
        5,
        ge=1,
        le=300.0,
        description="A client must send a whole request head within this long, and an idle kept-alive one is closed.",
    )
    stream_send_timeout_s: float = Field(
        20.0, gt=0.0, le=3600.0, description="A stream viewer that takes no frame for this long is disconnected."
    )
    api_token: str | None = Field(
        None,
        min_length=16,
        description=(
            "Bearer token for API calls that change or export faces; made and saved in DATA_DIR/api-token if unset."
        ),
    )
    auth: bool = Field(
        True,
        description=(
            "Ask for a login (or a token) on everything but /healthz. 'off' only on a network where everyone "
            "may see every camera and every face: every start says so."
        ),
    )
    admin_password: str | None = Field(
        None,
        min_length=10,
        description="The first admin's password; if unset, one is made and shown once at the first start.",
    )
    session_hours: float = Field(
        168.0, gt=0.0, le=24 * 365, description="How long a login lasts without being used (hours)."
    )
    blur: Literal["none", "unknown", "all"] = Field(
        "none",
        description=(
            "Faces viewers get pixelated: 'unknown' (strangers), 'all', or 'none'. Recognition sees the raw "
            "frames; an admin may ask for a stream unblurred with ?blur=0."
        ),
    )
    api_token_file: Path | None = Field(
        None, description="Read API_TOKEN from this file, so it never sits on a command line or in the environment."
    )
    source_file: Path | None = Field(
        None, description="Read SOURCE from this file: camera URIs with passwords stay off command lines."
    )
    max_upload_mb: float = Field(10.0, gt=0.0, le=200.0, description="Largest upload accepted by the API (MB).")
    max_photo_megapixels: float = Field(
        40.0,
        gt=0.0,
        le=1000.0,
        description=(
            "Largest photo decoded (width x height, in millions of pixels), read from its header before decoding: "
            "a small file that unpacks to a huge picture is refused instead of filling the memory."
        ),
    )
    mqtt_url: str | None = Field(
        None,
        description=(
            "Tell other systems over MQTT: the broker as mqtt://user:pass@host:1883 (mqtts:// for TLS). Unset: no "
            "MQTT bridge runs. Its password is masked wherever the URL is shown."
        ),
    )
    mqtt_prefix: str = Field(
        "facestream", description="Topics the MQTT bridge publishes start with this ('<prefix>/events'...)."
    )
    mqtt_client_id: str | None = Field(
        None, description="The MQTT bridge's client id (default: facestream-<host name>); unique per broker."
    )
    ha_discovery: bool = Field(
        True, description="With MQTT_URL: publish Home Assistant discovery configs, one device per camera."
    )
    mqtt_snapshots: bool = Field(
        True,
        description=(
            "With MQTT_URL: publish the newest appearance's frame (JPEG) on '<prefix>/<camera>/snapshot', not "
            "retained, and a Home Assistant camera entity for it. Off: no face leaves for the broker."
        ),
    )
    public_url: str | None = Field(
        None,
        description=(
            "The address people and programs reach the web at (https://facestream.example.org), for the snapshot "
            "links in webhooks and notifications; unset: the links are paths (/api/sightings/42/snapshot.jpg)."
        ),
    )
    webhook_urls: Annotated[list[Webhook], NoDecode] = Field(
        default_factory=list,
        description=(
            "POST every appear/leave as JSON to these addresses: comma-separated URLs, or a JSON list whose items "
            "are URLs or {url, names, cameras} (a TOML list in the file). Unset: no notify process runs for them."
        ),
    )
    webhook_timeout_s: float = Field(
        5.0, gt=0.0, le=120.0, description="A webhook or notification request gets no longer than this to answer (s)."
    )
    webhook_retries: int = Field(
        3,
        ge=0,
        le=10,
        description=(
            "Times a failed webhook or notification (no answer, 429 or 5xx) is tried again, 1 s, 2 s, 4 s... apart."
        ),
    )
    notify_url: str | None = Field(
        None,
        description=(
            "Push 'Unknown person at <camera>' and '<name> arrived' here: an ntfy topic URL "
            "(https://ntfy.sh/my-secret-topic) or a Gotify one (https://gotify.lan/message?token=...). Unset: none."
        ),
    )
    notify_format: Literal["ntfy", "gotify"] = Field(
        "ntfy", description="How NOTIFY_URL is spoken to: 'ntfy' (title and priority as headers) or 'gotify' (JSON)."
    )
    notify_names: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Notify only of these people, comma-separated ('Unknown' for strangers); empty: everyone.",
    )
    notify_cameras: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Notify only of these cameras, comma-separated; empty: every camera."
    )
    notify_interval_s: float = Field(
        600.0,
        ge=0.0,
        le=7 * 86400.0,
        description=(
            "At most one notification per person per camera this often (s); strangers count as one person. "
            "0: every arrival."
        ),
    )
    database_url: str | None = Field(
        None,
        description=(
            "Where sightings are kept, as an SQLAlchemy URL (postgresql+psycopg://user:pass@host/db); "
            "default: SQLite in WAL mode, DATA_DIR/sightings.db."
        ),
    )
    retain_days: float = Field(
        30.0, gt=0.0, le=36500.0, description="Sightings and their images are deleted after this many days."
    )
    retain_unknown_days: float = Field(
        7.0,
        gt=0.0,
        le=36500.0,
        description="The images of Unknown sightings (strangers' faces) are deleted sooner, after this many days.",
    )
    visitors: bool = Field(
        True,
        description=(
            "Give Unknown sightings a visitor id, the same for the same stranger's face on every camera and day "
            "(the sightings service encodes a few of their faces and keeps the encodings until RETAIN_DAYS); "
            "false keeps no encoding of any stranger."
        ),
    )
    visitor_ratio: float = Field(
        DEFAULT_VISITOR_RATIO,
        gt=0.3,
        lt=1.2,
        description=(
            "An Unknown sighting is an earlier visitor only if its faces score at most this against the visitor's "
            "(lower: fewer strangers share an id, more returning ones get a new id)."
        ),
    )
    store_unknown_images: bool = Field(
        True,
        description=(
            "Save the face crop and snapshot of Unknown sightings; false saves no picture of a stranger (their "
            "visitor id still works from encodings, but naming a visitor then has no crop to enrol)."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level of every service.")

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        """SOURCE_FILE and API_TOKEN_FILE fill SOURCE and API_TOKEN with their contents."""
        if not isinstance(data, dict):
            return data
        for file_key, key in (("source_file", "source"), ("api_token_file", "api_token")):
            path = data.get(file_key)
            if path:
                try:
                    data = {**data, key: Path(path).expanduser().read_text().strip()}
                except OSError as error:
                    raise ValueError(f"{file_key.upper()}: cannot read {path} ({error.strerror or error})") from None
        return data

    @model_validator(mode="after")
    def _tls_whole(self) -> Settings:
        """TLS needs both files, readable: a half-set TLS would serve plain HTTP by surprise."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS_CERT and TLS_KEY go together: set both, or neither")
        for key, path in (("TLS_CERT", self.tls_cert), ("TLS_KEY", self.tls_key)):
            if path is not None and not os.access(path, os.R_OK):
                raise ValueError(f"{key}: cannot read {path}")
        return self

    @property
    def scheme(self) -> str:
        """How the web service is reached: https with TLS_CERT, else http."""
        return "https" if self.tls_cert else "http"

    @field_validator("source")
    @classmethod
    def _source_parses(cls, value: str) -> str:
        parse_sources(value)
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url_parses(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_mqtt_url(value)
        return value.strip()

    @field_validator("public_url", "notify_url")
    @classmethod
    def _optional_http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_http_url(value)

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _webhooks_from_text(cls, value: object) -> object:
        """An environment variable is text: comma-separated URLs, or a JSON list; each URL alone a Webhook."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as error:
                    raise ValueError(f"not a JSON list ({error.msg} at character {error.pos})") from None
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(value, list):
            return [{"url": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("notify_names", "notify_cameras", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("mqtt_prefix")
    @classmethod
    def _mqtt_prefix_is_a_topic(cls, value: str) -> str:
        if not MQTT_PREFIX_PATTERN.match(value):
            raise ValueError("a topic prefix of letters, digits, '_', '-' and inner '/' (no '+', '#' or spaces)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment beats the file, the file beats the defaults."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_config_file())
        return (init_settings, env_settings, toml)

    @property
    def cameras(self) -> list[Camera]:
        """The cameras named by ``source``, resolved ('auto' looks for a local camera)."""
        return parse_sources(self.source)

    def bus_endpoint(self, role: Literal["publish", "subscribe", "dispatch"], *, bind: bool = False) -> str:
        """The ZeroMQ address of one broker socket, to connect to or (``bind``) to listen on."""
        offset = {"publish": 0, "subscribe": 1, "dispatch": 2}[role]
        host = self.broker_bind if bind else self.broker_host
        if bind and host in ("0.0.0.0", ""):
            host = "*"
        return f"tcp://{host}:{self.bus_port + offset}"


def _local_camera_exists() -> bool:
    return Path("/dev/video0").exists()


def parse_sources(value: str) -> list[Camera]:
    """Split a SOURCE value into cameras; raise ValueError naming what does not parse."""
    text = value.strip()
    if text.lower() in ("", "none"):
        return []
    if text.lower() == "auto":
        return [Camera("cam0", "0")] if _local_camera_exists() else []
    cameras: list[Camera] = []
    for index, item in enumerate(part.strip() for part in text.split(",")):
        if not item:
            raise ValueError(f"empty entry at position {index + 1} in {mask_uri(value)!r}")
        named = _NAMED_SOURCE.match(item)
        if named and "://" not in named.group(1):
            cameras.append(Camera(named.group(1), named.group(2).strip()))
        else:
            cameras.append(Camera(f"cam{index}", item))
    names = [camera.name for camera in cameras]
    if len(set(names)) != len(names):
        raise ValueError(f"camera names repeat in {mask_uri(value)!r}: {names}")
    return cameras


def check_http_url(value: str) -> str:
    """An http(s) URL with a host, trimmed; ValueError (showing no password, path or query) otherwise."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"not a URL: {mask_endpoint(text)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected http://host/... or https://host/..., got {mask_endpoint(text)!r}")
    return text


MQTT_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
MQTT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class MqttAddress:
    """Where the MQTT broker is and how to log in: MQTT_URL taken apart."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_mqtt_url(value: str) -> MqttAddress:
    """MQTT_URL taken apart; ValueError (without the password) naming what does not parse."""
    parts = urlsplit(value.strip())
    if parts.scheme not in MQTT_PORTS:
        raise ValueError(f"expected mqtt://host[:port] or mqtts://host[:port], got {mask_uri(value)!r}")
    try:
        port = parts.port or MQTT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f"bad port in {mask_uri(value)!r}") from None
    if not parts.hostname:
        raise ValueError(f"no host in {mask_uri(value)!r}")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return MqttAddress(parts.hostname, port, parts.scheme == "mqtts", username, password)


SECRET_SETTINGS = {"api_token", "admin_password", "database_url", "mqtt_url", "webhook_urls", "notify_url"}
"""Settings whose values are never echoed, not even when they are wrong."""


def _shown_input(key: str, value: object) -> str:
    """What an error message may say of a bad value: a secret's length only, a URI with its password masked."""
    if key in SECRET_SETTINGS:
        return f"got a value of {len(str(value))} characters" if value is not None else "got nothing"
    return f"got {mask_uri(repr(value))}"


def load_config(**overrides: object) -> Settings:
    """Read the settings; raise ConfigError with one line per bad key."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            key = ".".join(str(part) for part in problem["loc"]) or "config"
            setting = str(problem["loc"][0]) if problem["loc"] else key  # webhook_urls.0.url is WEBHOOK_URLS's
            lines.append(f"{key.upper()}: {problem['msg']} ({_shown_input(setting, problem.get('input'))})")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
