"""The web service under gunicorn, configured from our settings.

One worker process (the frames and results live in its memory). Under gevent
(the default) each connection is a greenlet: an idle viewer or a client that
trickles its request costs a few kilobytes, not a thread, so hundreds of them
leave the pages and the API answering (bench/slow_clients.py measures it
against the threaded server, still there as WEB_SERVER=threads). A request
head must arrive whole within HEADER_TIMEOUT_S (gunicorn's keep-alive timeout
bounds the head's read under gevent) and a viewer that takes no frame for
STREAM_SEND_TIMEOUT_S is dropped (services/web/app.py).
"""

from __future__ import annotations

import logging

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from services.web.app import create_app
from services.web.auth import WHO
from shared.config import Settings
from shared.log import log_format

ACCESS_LOG_FORMAT = f'%(h)s %({{{WHO}}}e)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'
"""Who asked (address, and 'api-token' when the token was shown), what, the answer, its size and duration.

The path without its query string: a query may carry a secret, and the log must not."""


class WebLog(glogging.Logger):
    """gunicorn's own lines (start, workers, errors, the access log) in the format of every facestream service."""

    error_fmt = access_fmt = log_format("web")
    datefmt = None


class DroppedViewerFilter(logging.Filter):
    """gunicorn logs a viewer let go by the send timeout as a socket error with a traceback; one line says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TimeoutError):
            record.msg, record.args = "a client took nothing for STREAM_SEND_TIMEOUT_S: disconnected", ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class WebServer(BaseApplication):
    """gunicorn, configured from our settings instead of its command line."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options = {
            "bind": f"{self.settings.bind}:{self.settings.port}",
            "workers": 1,
            "timeout": 30,
            "graceful_timeout": 3,
            "keepalive": self.settings.header_timeout_s,
            "logger_class": WebLog,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "loglevel": self.settings.log_level.lower(),
            "proc_name": "facestream-web",
            "control_socket_disable": True,  # gunicorn 24+ would write a socket under ~/.gunicorn
        }
        if self.settings.web_server == "gevent":
            options.update(worker_class="gevent", worker_connections=self.settings.web_connections)
        else:
            options.update(worker_class="gthread", threads=self.settings.web_threads)
        if self.settings.tls_cert and self.settings.tls_key:
            options.update(certfile=str(self.settings.tls_cert), keyfile=str(self.settings.tls_key))
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        logging.getLogger("gunicorn.error").addFilter(DroppedViewerFilter())
        return create_app(self.settings)
