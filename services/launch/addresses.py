"""The machine's own IPv4 addresses, read from its interfaces (no network traffic)."""

from __future__ import annotations

import fcntl
import socket
import struct

SIOCGIFADDR = 0x8915


def interface_addresses() -> list[str]:
    """Every non-loopback IPv4 address of this machine's interfaces, in interface order."""
    found: list[str] = []
    try:
        interfaces = socket.if_nameindex()
    except OSError:
        interfaces = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in interfaces:
            try:
                request = struct.pack("256s", name.encode()[:15])
                address = socket.inet_ntoa(fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)[20:24])
            except OSError:
                continue  # interface without an IPv4 address
            if not address.startswith("127.") and address not in found:
                found.append(address)
    return found


def urls(port: int, bind: str, scheme: str = "http") -> list[str]:
    """The URLs a person can open: localhost, and the LAN addresses when listening on all."""
    if bind not in ("0.0.0.0", "", "::"):
        return [f"{scheme}://{bind}:{port}/"]
    hosts = ["localhost", *interface_addresses()]
    return [f"{scheme}://{host}:{port}/" for host in hosts]
