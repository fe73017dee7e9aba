"""The web service under gunicorn's threaded worker, configured from our settings.

One worker process (the frames and results live in its memory) with many
threads: each MJPEG viewer holds a thread for as long as it watches.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from services.web.app import create_app
from services.web.auth import WHO
from shared.config import Settings

ACCESS_LOG_FORMAT = f'%(h)s %({{{WHO}}}e)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'
"""Who asked (address, and 'api-token' when the token was shown), what, the answer, its size and duration.

The path without its query string: a query may carry a secret, and the log must not."""


class WebServer(BaseApplication):
    """gunicorn, configured from our settings instead of its command line."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options = {
            "bind": f"{self.settings.bind}:{self.settings.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": self.settings.web_threads,
            "timeout": 30,
            "graceful_timeout": 3,
            "keepalive": 5,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "loglevel": self.settings.log_level.lower(),
            "proc_name": "facestream-web",
            "control_socket_disable": True,  # gunicorn 24+ would write a socket under ~/.gunicorn
        }
        if self.settings.tls_cert and self.settings.tls_key:
            options.update(certfile=str(self.settings.tls_cert), keyfile=str(self.settings.tls_key))
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        return create_app(self.settings)
