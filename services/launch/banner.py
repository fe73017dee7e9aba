"""What ``make run`` prints before the services start: the cameras, where to look, where the token is."""

from __future__ import annotations

from services.launch.addresses import urls
from shared.accounts import LOG_IN_HINT, ensure_first_admin, first_admin_line
from shared.config import Settings
from shared.redact import mask_endpoint, mask_uri
from shared.token import api_token, token_path


def banner(settings: Settings, problems: list[str] | None = None) -> str:
    """The start-up message, one line per fact a newcomer needs (and a line per camera that cannot work)."""
    lines = ["facestream is starting:"]
    if settings.cameras:
        lines += [f"  camera {camera.name}: {mask_uri(camera.uri)}" for camera in settings.cameras]
        lines += [f"  warning: {mask_uri(problem)}" for problem in problems or []]
    else:
        lines.append("  no camera found or configured: set SOURCE (e.g. make run SOURCE=0 or SOURCE=clip.mp4)")
    lines.append(f"  {settings.workers} inference worker(s); known faces from {settings.faces_dir.resolve()}")
    lines.append("Open the live view at:")
    addresses = urls(settings.port, settings.bind, settings.scheme)
    lines += [f"  {url}" for url in addresses]
    lines.append(f"Known people: {addresses[0]}people   API: {addresses[0]}api/docs")
    lines.append(token_line(settings))
    if settings.mqtt_url:
        discovery = ", Home Assistant discovery on" if settings.ha_discovery else ""
        lines.append(f"MQTT: {mask_uri(settings.mqtt_url)}, topics under {settings.mqtt_prefix}/{discovery}")
    if settings.webhook_urls:
        lines.append("Webhooks: " + ", ".join(mask_endpoint(hook.url) for hook in settings.webhook_urls))
    if settings.notify_url:
        lines.append(f"Notifications: {mask_endpoint(settings.notify_url)} ({settings.notify_format})")
    lines += account_lines(settings)
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def account_lines(settings: Settings) -> list[str]:
    """How to log in: the first admin's password, shown this once; or a loud word that nobody needs to."""
    if not settings.auth:
        return ["AUTH is off: anyone who reaches this port sees every camera and every face, and can change them."]
    password = ensure_first_admin(settings)
    return [first_admin_line(password) if password else LOG_IN_HINT]


def token_line(settings: Settings) -> str:
    """Where the API token is: never the token itself, which would end up in terminals' scrollback and logs."""
    if settings.api_token:
        return "API token: the API_TOKEN setting"
    path = token_path(settings)
    made_now = not path.exists()
    api_token(settings)
    return f"API token: {'made now and ' if made_now else ''}kept in {path.resolve()} (readable by you only)"
