"""HTTPS with TLS_CERT and TLS_KEY, against the real web service: a browser on the LAN needs it for its webcam.

The certificate comes from a throwaway CA made here (trustme); the client
trusts that CA only, so a handshake that succeeds proves the service serves
this certificate. Plain HTTP on the same port gets no page.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.harness import Pipeline, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, ssl.SSLContext]]:
    workdir = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    chain, key = workdir / "cert.pem", workdir / "key.pem"
    certificate.private_key_pem.write_to_path(str(key))
    certificate.cert_chain_pems[0].write_to_path(str(chain))
    for extra in certificate.cert_chain_pems[1:]:
        extra.write_to_path(str(chain), append=True)
    (workdir / "faces").mkdir()
    pipeline = Pipeline.configure(workdir, source="none", workers="1", tls_cert=str(chain), tls_key=str(key))
    client = ssl.create_default_context()
    authority.configure_trust(client)
    pipeline.tls = client
    try:
        pipeline.start()
        yield pipeline, client
        pipeline.stop()
    finally:
        pipeline.kill_leftovers()  # a failed start must leave no process behind


def test_the_web_answers_over_https_with_the_given_certificate(served: tuple[Pipeline, ssl.SSLContext]) -> None:
    pipeline, client = served
    assert pipeline.base_url.startswith("https://")

    def healthy() -> dict | None:
        with urllib.request.urlopen(pipeline.base_url + "/healthz", context=client, timeout=5) as answer:
            return json.loads(answer.read()) if answer.status == 200 else None

    assert wait_for(healthy, 60, "/healthz over HTTPS")["status"] == "ok"
    banner = (pipeline.workdir / "launch.out").read_text(errors="replace")
    assert f"https://127.0.0.1:{pipeline.env['PORT']}/" in banner


def test_plain_http_on_the_tls_port_gets_no_page(served: tuple[Pipeline, ssl.SSLContext]) -> None:
    pipeline, _ = served
    plain = f"http://127.0.0.1:{pipeline.env['PORT']}/api/cameras"
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)), urllib.request.urlopen(plain, timeout=5):
        pass


def test_half_a_tls_setting_is_refused_at_start(tmp_path: Path) -> None:
    from shared.config import ConfigError, load_config

    (tmp_path / "cert.pem").write_text("not used")
    with pytest.raises(ConfigError, match="TLS_CERT and TLS_KEY go together"):
        load_config(source="none", tls_cert=tmp_path / "cert.pem")
