"""What every request and response of the web service goes through: the Host check and the security headers.

**Host**: a web page on the internet can make a LAN user's browser read this
service by pointing its own host name at the LAN address (DNS rebinding); the
browser then sends that name in the Host header. Such a name is refused.
Accepted: an IP address (a rebinding attack cannot use one), this machine's
names (``localhost``, its host name, ``<host name>.local``, its FQDN) and the
names in ``ALLOWED_HOSTS`` (a leading dot allows every subdomain; ``*``
allows any name, behind a reverse proxy that checks it).

**Headers**: a strict Content-Security-Policy (the pages load only their own
scripts and styles; images may be blob: URLs of fetched photos, video the
browser's own camera), no framing by other sites, no MIME sniffing, no
referrer.
"""

from __future__ import annotations

import ipaddress
import socket

from flask import Flask, Response, jsonify, request

from shared.config import Settings

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def machine_names() -> set[str]:
    """The names this machine answers to without any configuration."""
    names = {"localhost"}
    hostname = socket.gethostname().lower()
    if hostname:
        names |= {hostname, f"{hostname}.local"}
    fqdn = socket.getfqdn().lower()
    if fqdn and fqdn != "localhost":
        names.add(fqdn)
    return names


def allowed_names(setting: str) -> set[str] | None:
    """The host names to accept: this machine's and the setting's; None when the setting says any (``*``)."""
    extra = {name.strip().lower() for name in setting.split(",") if name.strip()}
    if "*" in extra:
        return None
    return machine_names() | extra


def host_name(host_header: str) -> str:
    """The name or address of a Host header, without its port (an IPv6 address without its brackets)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host_header: str, names: set[str] | None) -> bool:
    """Whether a request with this Host header may be answered."""
    if names is None:
        return True
    name = host_name(host_header).rstrip(".")
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    return name in names or any(allowed.startswith(".") and name.endswith(allowed) for allowed in names)


def install_guards(app: Flask, settings: Settings) -> None:
    """Refuse foreign Host names before any view runs; add the security headers to every answer."""
    names = allowed_names(settings.allowed_hosts)

    @app.before_request
    def check_host() -> tuple[Response, int] | None:
        host = request.headers.get("Host", "")
        if host_allowed(host, names):
            return None
        return jsonify(error=f"host {host_name(host)!r} is not allowed here: add it to ALLOWED_HOSTS"), 400

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response
