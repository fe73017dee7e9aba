"""`make docker-check`: the image and docker-compose.yml, run under a real Docker daemon.

Builds the base image when it is missing (scripts/docker-base-image.sh: Debian's packages, for machines
without Docker Hub), builds the facestream image with the compose file, and starts docker-compose.yml as
its own compose project in a temporary folder that holds what a user's would: ``faces/<person>/`` with
one photo, an empty ``data/``, a clip, and the web published on a loopback port only. Then, over HTTP
with the API token the web made in ``data/``: /healthz answers 200, /api/results names the person, the
web's compose healthcheck says healthy, the first admin logs in on the login page with the password the
web's log showed once, a viewer made with the accounts CLI in the web's container logs in too, and
``--scale infer=2`` brings a second worker (two on /metrics, and results from both). Everything is torn
down (containers, network, volumes, the folder), also on failure, after printing the services' last log
lines. The figures printed at the end are the ones docs/install.md quotes.

Standard library only, so it runs with any python3 beside docker; the test data comes from
``../shared/data`` next to the repository (nothing is copied into the repository).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CLIP = DATA / "video_hamilton" / "short_hamilton_clip.mp4"
PERSON = "Lin_Manuel_Miranda"
PHOTO = DATA / "video_hamilton" / "reference" / PERSON / "lin-manuel-miranda.png"
CAMERA = "cam0"
"""The one capture service docker-compose.yml has (capture-cam0)."""
PROJECT = "facestream-check"
"""The compose project name: its containers, network and volumes are named after it, apart from a user's."""
IMAGE = "facestream"
"""The tag docker-compose.yml runs."""
BASE_IMAGE = "facestream-base:bookworm"
IMAGE_UID = 1000
"""The user the image runs as by default (Dockerfile ARG UID): it must be able to write data/ and faces/."""

T = TypeVar("T")


class CheckFailed(Exception):
    """A step did not reach its condition in time; the message says which and what was last seen."""


def say(line: str) -> None:
    print(f"==> {line}", flush=True)


def run(*args: str, log: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a command; with a log, its output goes there and its last lines are shown if it fails."""
    if log is None:
        subprocess.run(args, check=True, env=env)
        return
    with log.open("w") as out:
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        print("".join(log.read_text().splitlines(keepends=True)[-60:]), file=sys.stderr)
        raise CheckFailed(f"{' '.join(args[:3])} ... failed (exit {done.returncode}); full log: {log}")


def wait_for(condition: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Poll until condition returns something (not None/False) or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.5)


def compose_command() -> list[str]:
    """`docker compose` (the v2 plugin) where there is one, else Debian's `docker-compose` (v1)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise CheckFailed("neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Web:
    """The published web service, asked with the API token (an admin's rights)."""

    def __init__(self, port: int, token_file: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token_file = token_file

    def get(self, path: str) -> tuple[int, bytes]:
        """Status and body; (0, b'') while nothing answers yet."""
        headers = {}
        if self.token_file.exists():
            headers["Authorization"] = f"Bearer {self.token_file.read_text().strip()}"
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, b""

    def names_seen(self) -> set[str]:
        status, body = self.get(f"/api/results/{CAMERA}")
        if status != 200:
            return set()
        return {face["name"].replace(" ", "_") for face in json.loads(body)["faces"]}

    def worker_of_latest_result(self) -> str | None:
        status, body = self.get(f"/api/results/{CAMERA}")
        return str(json.loads(body)["worker"]) if status == 200 else None

    def log_in(self, name: str, password: str) -> str:
        """Log in with the page's form as a browser would; the role /api/me then gives (or why not)."""
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = browser.open(self.base + "/login", timeout=5).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        if csrf is None:
            return "no CSRF token on the login page"
        fields = {"csrf_token": csrf.group(1), "name": name, "password": password}
        browser.open(self.base + "/login", urllib.parse.urlencode(fields).encode(), timeout=5).read()
        try:
            with browser.open(self.base + "/api/me", timeout=5) as answer:
                return str(json.loads(answer.read())["role"])
        except urllib.error.HTTPError as refused:
            return f"/api/me answered {refused.code}"

    def workers_known(self) -> int:
        status, body = self.get("/metrics")
        if status != 200:
            return 0
        for line in body.decode().splitlines():
            if line.startswith("facestream_workers "):
                return int(float(line.split()[1]))
        return 0


class Project:
    """docker-compose.yml started as project PROJECT in a temporary folder, with the check's override."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        override = folder / "docker-compose.check.yml"
        # The clip for capture-cam0, as the compose file's commented "A video file" lines say.
        override.write_text(f"services:\n  capture-{CAMERA}:\n    volumes:\n      - {folder / 'videos'}:/videos:ro\n")
        self.base = [
            *compose_command(),
            "--project-name",
            PROJECT,
            "--project-directory",
            str(folder),
            "--file",
            str(REPO / "docker-compose.yml"),
            "--file",
            str(override),
        ]
        # The settings go in .env beside the project, where the compose file's header says to put them (an
        # exported variable would win over it: the check's own are left out of the environment).
        settings = {"SOURCE": f"{CAMERA}=/videos/{CLIP.name}", "WEB_PUBLISH": f"127.0.0.1:{port}"}
        (folder / ".env").write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        self.env = {key: value for key, value in os.environ.items() if key not in settings}

    def compose(self, *args: str, capture: bool = False) -> str:
        done = subprocess.run([*self.base, *args], env=self.env, check=True, capture_output=capture, text=True)
        return done.stdout if capture else ""

    def web_health(self) -> str:
        """The web container's healthcheck state (starting, healthy, unhealthy)."""
        container = self.compose("ps", "-q", "web", capture=True).strip()
        inspected = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Health.Status}}", container], capture_output=True, text=True
        )
        return inspected.stdout.strip()

    def first_admin_password(self) -> str | None:
        """The password the web logged, once, when it made the first admin (README, Running with Docker)."""
        said = re.search(r"Log in as 'admin' with the password (\S+) ", self.compose("logs", "web", capture=True))
        return said.group(1) if said else None

    def add_account(self, name: str, role: str, password: str) -> None:
        """Another login: the accounts CLI in the web's container (README, Running with Docker)."""
        command = ["exec", "-T", "web", "python", "-m", "services.accounts", "add", name, "--role", role]
        subprocess.run(
            [*self.base, *command, "--password-stdin"], env=self.env, input=password + "\n", text=True, check=True
        )

    def down(self) -> None:
        subprocess.run([*self.base, "down", "--volumes", "--remove-orphans", "--timeout", "10"], env=self.env)


def image_size_mb(image: str) -> float:
    size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], capture_output=True, text=True)
    return int(size.stdout.strip()) / 1e6


def prepare_folder(folder: Path, uid: int) -> None:
    """faces/<person>/photo, data/ and videos/clip, writable by the image's user."""
    (folder / "faces" / PERSON).mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "videos").mkdir()
    shutil.copy(PHOTO, folder / "faces" / PERSON / PHOTO.name)
    shutil.copy(CLIP, folder / "videos" / CLIP.name)
    if os.getuid() == 0:
        for path in (folder / "faces", folder / "faces" / PERSON, folder / "faces" / PERSON / PHOTO.name):
            os.chown(path, uid, uid)
        os.chown(folder / "data", uid, uid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python-image",
        default=os.environ.get("PYTHON_IMAGE", BASE_IMAGE),
        help=f"the Dockerfile's base (default {BASE_IMAGE}, made from Debian's packages when missing)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the project running (and its folder) to look at")
    args = parser.parse_args()

    for needed in (CLIP, PHOTO):
        if not needed.exists():
            print(f"docker-check: test data not found: {needed} (expected ../shared/data next to the repository)")
            return 1
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("docker-check: no Docker daemon answers `docker info` (as root: dockerd &)", file=sys.stderr)
        return 1

    figures: dict[str, str] = {}
    logs = Path(tempfile.mkdtemp(prefix="facestream-docker-logs."))
    if args.python_image == BASE_IMAGE:
        missing = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode != 0
        started = time.monotonic()
        run(str(REPO / "scripts" / "docker-base-image.sh"))
        if missing:
            figures["base image made"] = f"{time.monotonic() - started:.0f} s ({image_size_mb(BASE_IMAGE):.0f} MB)"

    # As root the image keeps its default user (UID 1000) and the folders are handed to it; anyone else
    # builds the image for their own UID, as the README says, so the bind mounts stay theirs.
    uid = IMAGE_UID if os.getuid() == 0 else os.getuid()
    # Built as a user would, by the compose file from the repository (its build context).
    build = [*compose_command(), "--project-name", PROJECT, "--file", str(REPO / "docker-compose.yml"), "build"]
    say(f"compose build (PYTHON_IMAGE={args.python_image}; log in {logs}/build.log)")
    started = time.monotonic()
    env = {**os.environ, "PYTHON_IMAGE": args.python_image}
    run(*build, "--build-arg", f"UID={uid}", log=logs / "build.log", env=env)
    figures["image build"] = f"{time.monotonic() - started:.0f} s"
    figures["image size"] = f"{image_size_mb(IMAGE):.0f} MB"

    folder = Path(tempfile.mkdtemp(prefix="facestream-docker-check."))
    port = free_loopback_port()
    prepare_folder(folder, uid)
    project = Project(folder, port)
    web = Web(port, folder / "data" / "api-token")
    passed = False
    reason = ""
    try:
        say(f"compose up: project {PROJECT} in {folder}, web on 127.0.0.1:{port}")
        started = time.monotonic()
        project.compose("up", "--detach", "--no-build")
        wait_for(lambda: web.get("/healthz")[0] == 200, 180, "/healthz to answer 200")
        figures["up to /healthz 200"] = f"{time.monotonic() - started:.1f} s"
        wait_for(lambda: web.token_file.exists() and web.get("/api/cameras")[0] == 200, 30, "the API token to work")
        wait_for(lambda: PERSON in web.names_seen(), 300, f"/api/results/{CAMERA} to name {PERSON}")
        figures["up to first result naming the person"] = f"{time.monotonic() - started:.1f} s"
        say(f"/api/results/{CAMERA} names {PERSON}")
        wait_for(lambda: project.web_health() == "healthy", 120, "the web's compose healthcheck to say healthy")
        figures["up to the web's healthcheck healthy"] = f"{time.monotonic() - started:.1f} s"
        password = wait_for(project.first_admin_password, 30, "the web's log to show the first admin's password")
        role = web.log_in("admin", password)
        if role != "admin":
            raise CheckFailed(f"logging in as the first admin with the password the web logged gave: {role}")
        say("the first admin logs in with the password the web's log showed once")
        password = secrets.token_urlsafe(12)
        project.add_account("watcher", "viewer", password)
        role = web.log_in("watcher", password)
        if role != "viewer":
            raise CheckFailed(f"logging in as the viewer made with the accounts CLI gave: {role}")
        say("a viewer made with `compose exec web python -m services.accounts add` logs in on the page")

        say("compose up --scale infer=2")
        started = time.monotonic()
        project.compose("up", "--detach", "--no-build", "--scale", "infer=2")
        wait_for(lambda: web.workers_known() == 2, 180, "/metrics facestream_workers to reach 2")
        workers: set[str] = set()

        def both_workers_answered() -> bool:
            worker = web.worker_of_latest_result()
            if worker:
                workers.add(worker)
            return len(workers) >= 2

        wait_for(both_workers_answered, 120, "results from two different workers")
        figures["scale to a second worker's results"] = f"{time.monotonic() - started:.1f} s"
        say(f"two workers on /metrics, results from both: {', '.join(sorted(workers))}")
        passed = True
    except (CheckFailed, subprocess.CalledProcessError) as failure:
        subprocess.run([*project.base, "logs", "--no-color", "--tail", "25"], env=project.env)
        reason = str(failure)
    finally:
        if args.keep:
            say(f"left running (--keep): {' '.join(project.base)} down --volumes; rm -rf {folder}")
        else:
            say("compose down --volumes, and the folder removed")
            project.down()
            shutil.rmtree(folder, ignore_errors=True)
            if passed:
                shutil.rmtree(logs, ignore_errors=True)

    print("docker-check figures:")
    for name, value in figures.items():
        print(f"  {name}: {value}")
    print("docker-check passed" if passed else f"docker-check FAILED: {reason}")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as failure:
        print(f"docker-check FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
