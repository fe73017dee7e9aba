"""Tell other programs and phones who came: webhooks (WEBHOOK_URLS) and push notifications (NOTIFY_URL).

    WEBHOOK_URLS=http://nodered.lan:1880/facestream NOTIFY_URL=https://ntfy.sh/my-secret-topic python -m services.notify

Started by ``python -m services.launch`` when either is set. Events, filters and examples: docs/integrations.md,
"Webhooks and notifications".
"""

from __future__ import annotations

import argparse
import sys

from services.notify.service import serve
from shared.process import run_service


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    return run_service("notify", serve)


if __name__ == "__main__":
    sys.exit(main())
