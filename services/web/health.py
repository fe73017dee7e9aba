"""What /healthz says: whether the bus is heard and, per camera, whether frames arrive and results keep up.

A watchdog or a compose healthcheck acts on the status code, so it is 503
only for what a restart could mend: a silent bus, or a camera whose frames
arrive while its results stop (a stalled dispatcher, dead workers). A camera
without signal is reported, with the reason, but does not fail the whole:
restarting the web does not bring a camera back.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.web.state import CameraView, Hub
from shared.redact import mask_uri

BUS_SILENT_UNHEALTHY_S = 5.0
RESULTS_STALE_S = 10.0
"""A camera whose newest result is this much older than its newest frame has stopped being recognised."""
FIRST_RESULT_GRACE_S = 90.0
"""How long after the web starts a live camera may go without any result (the workers load their models)."""


@dataclass(frozen=True)
class CameraHealth:
    """One camera's state for /healthz."""

    state: str
    healthy: bool
    reason: str
    results_behind_s: float | None

    def body(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "healthy": self.healthy,
            "reason": self.reason,
            "results_behind_s": self.results_behind_s,
        }


def camera_health(view: CameraView, up_s: float) -> CameraHealth:
    """Frames arriving, and results keeping up with them."""
    packet, result, status, _ = view.snapshot()
    if view.offline():
        return CameraHealth("offline", True, "a browser hosted it and has left", None)
    if packet is None or not view.is_live():
        said = mask_uri(status.message) if status is not None and status.message else "no frames yet"
        return CameraHealth("no_signal", True, said, None)
    if result is None:
        if up_s < FIRST_RESULT_GRACE_S:
            return CameraHealth("starting", True, "frames arrive; waiting for the first result", None)
        return CameraHealth("no_results", False, f"frames arrive but no result came in {up_s:.0f} s", None)
    behind = round(packet.header.ts - result.capture_ts, 2)
    if behind > RESULTS_STALE_S:
        return CameraHealth(
            "results_stale", False, f"frames arrive but the newest result is {behind:.0f} s old", behind
        )
    return CameraHealth("ok", True, "", behind)


LOW_DISK_MB = 200.0
"""Below this much free space in a data folder, uploads and caches start failing: said in /healthz."""


def folder_health(folder: Path) -> dict[str, Any]:
    """Free space and writability of a folder the services write to; a problem in words when there is one.

    Reported without failing the check: a restart frees no disk, and recognition goes on with what is in memory.
    """
    try:
        usage = shutil.disk_usage(folder)
    except OSError as error:
        return {"free_mb": None, "writable": False, "problem": f"cannot read: {error.strerror}"}
    free_mb = round(usage.free / 1e6, 1)
    writable = os.access(folder, os.W_OK) and not _read_only(folder)
    problem = "read-only" if not writable else f"only {free_mb:.0f} MB free" if free_mb < LOW_DISK_MB else ""
    return {"free_mb": free_mb, "writable": writable, "problem": problem}


def _read_only(folder: Path) -> bool:
    """Mounted read-only (os.access says yes to root there)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return True


def health(hub: Hub, started_at: float, folders: dict[str, Path] | None = None) -> tuple[dict[str, Any], bool]:
    """The /healthz body, and whether it is healthy."""
    silence = hub.bus_silence_s()
    up_s = time.monotonic() - started_at
    cameras = {view.name: camera_health(view, up_s) for view in hub.cameras()}
    bus_ok = silence < BUS_SILENT_UNHEALTHY_S
    healthy = bus_ok and all(camera.healthy for camera in cameras.values())
    if not bus_ok:
        status = "bus silent"
    elif not healthy:
        status = "recognition stalled: " + ", ".join(name for name, camera in cameras.items() if not camera.healthy)
    else:
        status = "ok"
    body = {
        "status": status,
        "bus_silence_s": round(silence, 2),
        "cameras": {name: camera.body() for name, camera in cameras.items()},
        "storage": {name: folder_health(folder) for name, folder in (folders or {}).items()},
        "time": time.time(),
    }
    return body, healthy
