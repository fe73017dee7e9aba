"""Checks before anything starts: one installation per DATA_DIR, free ports, and settings that look mistyped.

Without them a second ``make run`` quietly joins the first one's bus (its
broker cannot bind, while its capture and workers connect to the other's), or
prints the other's address while its web retries a taken port for ever, or
starts with no camera because ``SORUCE`` was typed for ``SOURCE``. Each
refusal is one line saying what to do, and the launcher exits non-zero.
"""

from __future__ import annotations

import difflib
import errno
import fcntl
import os
import socket
from collections.abc import Mapping
from pathlib import Path

from shared.config import Settings
from shared.sources import classify

LOCK_FILE = "facestream.lock"
"""In DATA_DIR/run: held (flock) by the running supervisord for as long as the installation runs."""
NOT_SETTINGS = {"PATH", "HOME", "USER", "SHELL", "TERM", "PWD", "LANG", "HOSTNAME", "DISPLAY", "EDITOR", "PAGER"}
"""Common variables that are never facestream's, however close their spelling."""


class PreflightError(Exception):
    """A reason not to start, in one line."""


def hold_lock(run_dir: Path) -> int:
    """Lock DATA_DIR for this installation; the descriptor stays open through exec, so supervisord keeps it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = Path(path).read_text().strip() or "unknown"
        os.close(descriptor)
        raise PreflightError(
            f"facestream is already running with this DATA_DIR ({run_dir.parent}, pid {holder}): "
            "stop it first, or set DATA_DIR to another folder"
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())  # exec keeps the pid: it is supervisord's
    os.set_inheritable(descriptor, True)
    return descriptor


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on this address and port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the services bind: TIME_WAIT is no obstacle
        try:
            probe.bind((host if host not in ("*", "") else "0.0.0.0", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise PreflightError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return False


def check_ports(settings: Settings) -> None:
    """The web's port and the three bus ports must be free, or another program (or installation) has them."""
    wanted = [("PORT", settings.bind, settings.port)]
    wanted += [
        (f"BUS_PORT{'+' + str(offset) if offset else ''}", settings.broker_bind, settings.bus_port + offset)
        for offset in range(3)
    ]
    for setting, host, port in wanted:
        if port_taken(host, port):
            hint = "PORT" if setting == "PORT" else "BUS_PORT (it uses three ports from there)"
            raise PreflightError(
                f"port {port} ({setting}) is taken by another program, perhaps another facestream: set {hint}"
            )


def mistyped_settings(environment: Mapping[str, str]) -> list[str]:
    """One warning per environment variable spelt like a setting but not one ("SORUCE: did you mean SOURCE?")."""
    names = {name.upper() for name in Settings.model_fields}
    warnings = []
    for variable in sorted(environment):
        if variable in names or variable in NOT_SETTINGS or not variable.isupper():
            continue
        close = difflib.get_close_matches(variable, names, n=1, cutoff=0.8)
        if close:
            warnings.append(f"{variable} is not a setting: did you mean {close[0]}?")
    return warnings


def missing_files(settings: Settings) -> list[str]:
    """Cameras whose source is a file that is not there: said in the banner, not only on the camera's card."""
    missing = []
    for camera in settings.cameras:
        source = classify(camera.uri)
        if source.is_file and not Path(str(source.target)).exists():
            missing.append(f"camera {camera.name}: file not found: {source.target}")
    return missing
