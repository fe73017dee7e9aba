"""The web service's Flask app: the page, the MJPEG streams and the HTTP API."""

from __future__ import annotations

import secrets
import socket
import time

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response as BaseResponse

from services.web import label_fonts, mjpeg
from services.web.account_pages import create_account_pages
from services.web.api_models import CameraList, ErrorBody, reply
from services.web.auth import current, install_auth
from services.web.green import bus_context
from services.web.guards import install_guards
from services.web.health import health
from services.web.history_pages import create_history_pages
from services.web.hosting import MAX_FRAME_BYTES, BusPublisher, host
from services.web.listener import BusListener
from services.web.live import PeopleCount, camera_summary, event_stream
from services.web.metrics import WebMetrics
from services.web.openapi import spec
from services.web.people_api import create_people_api
from services.web.sightings_api import create_sightings_api
from services.web.state import CameraView, Hub
from services.web.stream_slots import StreamSlots
from services.web.tokens_api import create_tokens_api
from services.web.unread_body import install_body_drain
from services.web.users_api import create_users_api
from services.web.visitors_api import create_visitors_api
from services.web.websocket import Closed, Handled, NotWebSocket, WebSocket, is_upgrade
from shared.bus.announce import PeopleAnnouncer
from shared.config import Settings, load_config
from shared.faces.encoding_cache import cache_folder
from shared.faces.matcher import PHOTOS_REFERENCE
from shared.people.store import PeopleStore
from shared.redact import mask_uri
from shared.sightings.database import database_url, make_engine
from shared.token import api_token

STREAM_SEND_BUFFER_BYTES = 256 * 1024
"""The kernel's send buffer of a stream: a few frames. Left to grow (to 4 MB), a viewer that stops reading would
pin megabytes each and make the web copy seconds of video into them; a slow one would get seconds-old frames
from the buffer instead of skipping to the newest."""
ADD_CAMERA_HINT = (
    "No camera is configured: restart with SOURCE set, e.g. make run SOURCE=0 for a webcam, "
    "make run SOURCE=clip.mp4 for a video file or make run SOURCE=rtsp://host/stream; "
    "or make a browser's webcam a camera on the Go live page."
)


def create_app(settings: Settings | None = None, start_listener: bool = True) -> Flask:
    """Build the app and start its bus thread."""
    settings = settings or load_config()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = int(settings.max_upload_mb * 1_000_000)
    install_guards(app, settings)
    install_body_drain(app)
    label_fonts.catalog()  # asked now, on the main thread: labels are drawn on native threads
    install_auth(app, settings, api_token(settings))
    people = PeopleStore(settings.faces_dir, settings.data_dir)
    announcer = PeopleAnnouncer(settings)
    sightings = make_engine(database_url(settings))  # connects at the first request: the service makes the tables
    app.register_blueprint(create_people_api(settings, people, announcer, sightings))
    app.register_blueprint(create_tokens_api(settings))
    app.register_blueprint(create_users_api(settings))
    app.register_blueprint(create_sightings_api(settings, sightings))
    app.register_blueprint(create_visitors_api(settings, sightings, people, announcer))
    app.register_blueprint(create_account_pages())
    app.register_blueprint(create_history_pages())
    started_at = time.monotonic()
    hub = Hub({camera.name: mask_uri(camera.uri) for camera in settings.cameras})
    configured = {camera.name for camera in settings.cameras}
    bus = BusPublisher(settings, bus_context)
    known_people = PeopleCount(people)
    metrics = WebMetrics(hub)
    slots = StreamSlots(settings.max_streams_per_client)
    app.extensions["facestream.hub"] = hub
    if start_listener:
        listener = BusListener(settings, hub, metrics)
        listener.start()
        app.extensions["facestream.listener"] = listener

    def view_or_404(camera: str) -> CameraView:
        view = hub.camera(camera)
        if view is None:
            abort(404, description=f"no camera named {camera!r}")
        return view

    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(400)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def json_error(error):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/") or request.path.startswith("/stream/"):
            response, status = reply(ErrorBody(error=error.description or error.name), error.code)
            allowed = getattr(error, "valid_methods", None)
            if allowed:  # a 405 says what the path does allow (RFC 9110)
                response.headers["Allow"] = ", ".join(allowed)
            return response, status
        return error

    @app.get("/")
    def index() -> str:
        return render_template("index.html", cameras=hub.cameras(), hint=ADD_CAMERA_HINT)

    @app.get("/stream/<camera>.mjpg")
    def stream(camera: str) -> Response:
        view = view_or_404(camera)
        with_overlay = request.args.get("overlay", "1") not in ("0", "false", "no")
        unblurred = request.args.get("blur", "1") in ("0", "false", "no")
        who = current()
        if unblurred and (who is None or who.role != "admin"):
            abort(403, description="only an admin may watch a stream unblurred (?blur=0)")
        client = take_slot()
        frames = mjpeg.stream(view, with_overlay, "none" if unblurred else settings.blur, metrics)
        return held_while_open(
            client, Response(frames, mimetype=f"multipart/x-mixed-replace; boundary={mjpeg.BOUNDARY}")
        )

    def held_while_open(client: str, response: Response) -> Response:
        """A long-lived answer (a stream, the events channel): it holds one of the client's slots until it ends,
        and a client that stops reading is let go instead of held for ever."""
        response.call_on_close(lambda: slots.give_back(client))  # whether or not anything was ever sent
        connection = request.environ.get("gunicorn.socket")
        if connection is not None:
            connection.settimeout(settings.stream_send_timeout_s)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SEND_BUFFER_BYTES)
        response.headers["Cache-Control"] = "no-cache, no-store"
        response.headers["X-Accel-Buffering"] = "no"  # a reverse proxy must pass each part on at once
        return response

    def take_slot() -> str:
        client = request.remote_addr or "-"
        if not slots.take(client):
            abort(429, description=f"this address holds {slots.per_client} streams already (MAX_STREAMS_PER_CLIENT)")
        return client

    @app.route("/ws/publish/<camera>", websocket=True)  # werkzeug routes a WebSocket upgrade only to such rules
    def publish(camera: str) -> Response:
        if not is_upgrade(request.environ):
            abort(400, description="this is a WebSocket: connect with ws:// (or wss://), see the README's Go live")
        try:
            channel = WebSocket(request.environ, MAX_FRAME_BYTES, settings.stream_send_timeout_s)
        except NotWebSocket as problem:
            abort(400, description=f"not a WebSocket upgrade: {problem}")
        client = take_slot()
        who = current()
        try:
            host(channel, camera, hub.claim_host(camera, configured), bus, who.name if who else "-")
        except Closed:
            pass
        finally:
            slots.give_back(client)
        return Handled()

    @app.get("/api/events")
    def events() -> Response:
        return held_while_open(take_slot(), Response(event_stream(hub, known_people), mimetype="text/event-stream"))

    @app.get("/api/cameras")
    def cameras() -> tuple[Response, int]:
        views = hub.cameras()
        summaries = [camera_summary(view) for view in views]
        return reply(CameraList(cameras=summaries, hint=None if views else ADD_CAMERA_HINT))

    @app.get("/api/results/<camera>")
    def results(camera: str) -> tuple[Response, int]:
        result = view_or_404(camera).latest_result()
        if result is None:
            abort(404, description=f"no result yet for camera {camera!r}")
        return reply(result)

    @app.get("/favicon.ico")
    def favicon() -> BaseResponse:
        return redirect(url_for("static", filename="favicon.svg"))

    @app.get("/camera/<camera>")
    def camera_page(camera: str) -> str:
        return render_template("camera.html", camera=view_or_404(camera).name)

    @app.get("/go-live")
    def go_live_page() -> str:
        return render_template("golive.html", suggested=f"browser-{secrets.token_hex(2)}")

    @app.get("/people")
    def people_page() -> str:
        return render_template("people.html", photos_advised=PHOTOS_REFERENCE)

    @app.get("/api/openapi.json")
    def openapi() -> Response:
        return jsonify(spec())

    @app.get("/api/docs")
    def api_docs() -> str:
        return render_template("api_docs.html", spec=spec())

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        folders = {"data": settings.data_dir, "faces": settings.faces_dir, "cache": cache_folder(settings.data_dir)}
        body, healthy = health(hub, started_at, folders)
        return jsonify(body), 200 if healthy else 503

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)

    return app
