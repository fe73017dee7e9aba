"""The first admin when the web starts on its own, as in a container (no launcher, no start banner).

Under Docker nothing runs ``make run``'s banner, which made the first admin:
there was no login at all. The web makes it now, logs its generated password
once, and a browser logs in with it; the next start says nothing more.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import free_port_block, stop_with_parent, wait_for
from tests.integration.test_users_api import Client

pytestmark = pytest.mark.integration

REPOSITORY = Path(__file__).resolve().parents[2]
SAID = re.compile(r"Log in as 'admin' with the password (\S+) ")


class LoneWeb:
    """``python -m services.web`` with a fresh DATA_DIR, its log in a file."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port_block(1)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(workdir / "data"),
            "FACES_DIR": str(workdir / "faces"),
            "PORT": str(self.port),
            "BIND": "127.0.0.1",
            "BUS_PORT": str(free_port_block(3)),
            "SOURCE": "none",
        }
        self.env.pop("ADMIN_PASSWORD", None)
        (workdir / "faces").mkdir(exist_ok=True)

    def run(self, log_name: str) -> Iterator[Path]:
        log = self.workdir / log_name
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.web"], cwd=REPOSITORY, env=self.env, stdout=output,
                stderr=subprocess.STDOUT, preexec_fn=stop_with_parent,
            )  # fmt: skip
            try:
                wait_for(lambda: "Listening at" in log.read_text(), 30, "the web to listen")
                yield log
            finally:
                process.terminate()
                process.wait(10)


@pytest.fixture
def web(tmp_path: Path) -> LoneWeb:
    return LoneWeb(tmp_path)


def test_a_web_started_alone_makes_the_first_admin_and_says_the_password_once(web: LoneWeb) -> None:
    for log in web.run("first.log"):
        said = SAID.findall(log.read_text())
        assert len(said) == 1, log.read_text()[-2000:]
        assert Client(web.base_url, []).log_in("admin", said[0]) == 302, "the password logged logs in"
    for log in web.run("second.log"):
        assert not SAID.search(log.read_text()), "the password is shown once, at the start that made it"
