"""Tell other systems who is in view: presence, appear/named/leave events and snapshots over MQTT, with Home
Assistant discovery.

    MQTT_URL=mqtt://user:pass@host:1883 python -m services.mqtt

Started by ``python -m services.launch`` when MQTT_URL is set. Topics: docs/integrations.md.
"""

from __future__ import annotations

import argparse
import sys
import threading

from services.mqtt.bridge import Bridge
from services.mqtt.link import MqttLink
from services.mqtt.topics import Topics
from shared.config import Settings
from shared.process import StartupError, run_service


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)

    def bridge(settings: Settings, stop: threading.Event) -> None:
        if not settings.mqtt_url:
            raise StartupError("MQTT_URL is not set: nothing to publish to (e.g. MQTT_URL=mqtt://host:1883)")
        link = MqttLink(settings, Topics(settings.mqtt_prefix).available)
        Bridge(settings, link).run(stop)

    return run_service("mqtt", bridge)


if __name__ == "__main__":
    sys.exit(main())
