"""Who is asking, and may they: logins with a role, the API token, CSRF on cookie writes, a login rate limit.

Every request but ``/healthz``, the login page and the static files needs a
credential: a login (a signed, HttpOnly, SameSite cookie) or the API token
(``Authorization: Bearer``, for programs, with the admin's rights). Without
one a page redirects to the login and the API and the streams answer 401 with
a JSON error. A viewer may watch and read; seeing photos and changing anything
is for admins (403). A write made with a login cookie must carry the page's
CSRF token (``X-CSRFToken``), so another site cannot make a logged-in browser
change anything. Logins are limited per address, with a longer pause for an
address that keeps failing. ``AUTH=off`` lets everyone in as an admin and says
so at every start.

This is the one place that decides access: routes do not check credentials.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, g, jsonify, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from services.web.api_models import ErrorBody, Me, PasswordChange, PasswordChanged, reply
from shared.accounts import MIN_PASSWORD_LENGTH, Account, AccountError, AccountStore, Role
from shared.api_tokens import ROLE_OF_SCOPE, TokenStore
from shared.config import Settings
from shared.token import session_key, token_matches

log = logging.getLogger(__name__)

WHO = "facestream.who"
"""The WSGI environ key the access log reads who was let in from (services/web/server.py)."""
OPEN_PATHS = ("/healthz", "/login", "/static/", "/favicon.ico")
ADMIN_ONLY_READS = ("/api/users", "/users", "/api/token")  # /api/token also covers /api/tokens
"""Reads that are for admins: accounts, and the token check (programs holding the token)."""
SIGHTING_ROWS = re.compile(r"/api/((sightings|visitors)(/\d+)?|sightings/names)/?")
"""Sightings, visitors and when each person was seen: a viewer may read them (who was seen where, like the live
names); anything below one (its face, its snapshot, whatever comes next) is a picture of a face: an admin's."""
NEGATIVES = re.compile(r"/api/people/[^/]+/not(/.*)?")
"""Faces marked as not a person: who was taken for whom, an admin's even to read."""
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOGIN_LIMIT = "5 per minute; 20 per hour"
LOGIN_BACKOFF = "3 per hour"
"""An address that hits the login limit this often is refused logins for the rest of the hour."""


@dataclass(frozen=True)
class Identity:
    """Who a request comes from: an account, the API token, or anyone (AUTH=off)."""

    name: str
    role: Role
    via: Literal["session", "token", "open"]


def needed_role(method: str, path: str) -> Role | None:
    """The role a request needs: None for the open paths, 'viewer' to read, 'admin' for the rest.

    Photos (enrolled ones, and sightings' faces and snapshots) are biometric exports, so they are an admin's,
    like every change; a viewer may still change their own password and log out.
    """
    if path.startswith(OPEN_PATHS):
        return None
    if path in ("/logout", "/api/me/password"):
        return "viewer"
    if path.startswith("/ws/"):
        return "admin"  # hosting a camera puts frames on the bus: a write, though the upgrade is a GET
    if method in SAFE_METHODS:
        is_photo = path.startswith("/api/people/") and "/photos/" in path
        history = path.startswith(("/api/sightings/", "/api/visitors/"))
        is_photo |= history and not SIGHTING_ROWS.fullmatch(path)  # face.jpg, snapshot.jpg
        is_photo |= NEGATIVES.fullmatch(path) is not None
        return "admin" if is_photo or path.startswith(ADMIN_ONLY_READS) else "viewer"
    return "admin"


def wants_json(path: str) -> bool:
    """Programs (the API, the streams, metrics, WebSockets) get JSON errors; people get pages (the API docs are one)."""
    return path.startswith(("/api/", "/stream/", "/metrics", "/ws/")) and path != "/api/docs"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def password_stamp(account: Account) -> str:
    """A short digest of the account's password hash. A session carries the stamp of the password it was opened
    with, so a new password (changed, or reset by an admin) ends every session opened with the old one."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def same_origin(origin: str | None, host: str) -> bool:
    """Whether a request's Origin is this very site. Browsers send cookies with a WebSocket upgrade from any
    page and CSRF tokens do not apply there, so a WebSocket opened with a login must come from our own pages."""
    return origin is not None and urlsplit(origin).netloc == host


def current() -> Identity | None:
    """Who the current request comes from (set by the guard before any view runs)."""
    return g.get("who")


def install_auth(app: Flask, settings: Settings, token: str) -> None:
    """Sessions, CSRF, the login rate limit, the guard in front of every view, and the login and logout pages."""
    app.secret_key = session_key(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.tls_cert is not None,
        SESSION_COOKIE_NAME="facestream_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the guard, for cookie-authenticated writes only
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
        WTF_CSRF_SSL_STRICT=False,  # the Host check and SameSite cookies already stop cross-site posts
    )
    csrf = CSRFProtect(app)
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", meta_limits=[LOGIN_BACKOFF])
    accounts = AccountStore(settings.data_dir)
    named_tokens = TokenStore(settings.data_dir)

    def presented_token() -> str | None:
        """A bearer token, or for a stream a ``?token=`` (an <img> on a wall display cannot send a header)."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer ") :].strip() or None
        if request.path.startswith("/stream/") and request.method in SAFE_METHODS:
            return request.args.get("token") or None
        return None

    def identify() -> Identity | None:
        if not settings.auth:
            return Identity("anyone", "admin", "open")
        presented = presented_token()
        if presented is not None:
            if token_matches(token, presented):
                return Identity("api-token", "admin", "token")
            named = named_tokens.find(presented)
            return Identity(f"token:{named.name}", ROLE_OF_SCOPE[named.scope], "token") if named else None
        name = session.get("user")
        account = accounts.get(name) if isinstance(name, str) else None
        if account is None or session.get("stamp") != password_stamp(account):
            return None  # no account, or one whose password changed since this session began
        return Identity(account.name, account.role, "session")

    @app.before_request
    def guard() -> BaseResponse | tuple[Response, int] | None:
        who = g.who = identify()
        if who is not None:
            request.environ[WHO] = who.name
        role = needed_role(request.method, request.path)
        if role is None:
            return None
        if who is None:
            if wants_json(request.path):
                response = jsonify(error="log in, or send the API token: 'Authorization: Bearer <token>'")
                response.headers["WWW-Authenticate"] = 'Bearer realm="facestream"'
                return response, 401
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if role == "admin" and who.role != "admin":
            return jsonify(error=f"{who.name} is a viewer: this needs an admin"), 403
        if who.via == "session" and request.method not in SAFE_METHODS:
            csrf.protect()
        if who.via == "session" and request.path.startswith("/ws/") and not same_origin(request.origin, request.host):
            return jsonify(error="a WebSocket with a login must come from this site's own pages"), 403
        return None

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[Response, int]:
        return jsonify(error=f"refused: {error.description} (reload the page)"), 400

    pages = Blueprint("auth", __name__)

    @pages.route("/login", methods=["GET", "POST"])
    @limiter.limit(LOGIN_LIMIT, methods=["POST"])
    def login() -> BaseResponse | str | tuple[str, int]:
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template("login.html", next=target, error=None)
        csrf.protect()
        account = accounts.verify(request.form.get("name", ""), request.form.get("password", ""))
        if account is None:
            log.warning("failed login for %r from %s", request.form.get("name", "")[:32], request.remote_addr)
            return render_template("login.html", next=target, error="Wrong name or password."), 401
        session.clear()
        session.permanent = True
        session["user"] = account.name
        session["stamp"] = password_stamp(account)
        log.info("%s logged in from %s", account.name, request.remote_addr)
        return redirect(target)

    @pages.get("/api/me")
    def me() -> tuple[Response, int]:
        who = current()
        assert who is not None  # the guard let only a credential through
        return reply(Me(name=who.name, role=who.role))

    @pages.post("/api/me/password")
    def change_password() -> tuple[Response, int]:
        who = current()
        if who is None or who.via != "session":
            return reply(ErrorBody(error="only a logged-in account has a password to change"), 403)
        try:
            change = PasswordChange.model_validate(request.get_json(silent=True) or {})
        except ValidationError:
            wanted = f'send JSON {{"current": "...", "new": "..."}} (a new password: {MIN_PASSWORD_LENGTH}+ characters)'
            return reply(ErrorBody(error=wanted), 400)
        if accounts.verify(who.name, change.current) is None:
            return reply(ErrorBody(error="the current password is wrong"), 403)
        try:
            accounts.set_password(who.name, change.new)
        except AccountError as problem:
            return reply(ErrorBody(error=str(problem)), 400)
        changed = accounts.get(who.name)
        if changed is not None:
            session["stamp"] = password_stamp(changed)  # this session goes on; the account's others end
        log.info("%s changed their password", who.name)
        return reply(PasswordChanged(changed=who.name))

    @pages.post("/logout")
    def logout() -> BaseResponse:
        session.clear()
        return redirect(url_for("auth.login"))

    @app.errorhandler(429)
    def too_many(error: HTTPException) -> tuple[Response | str, int]:
        if request.path != "/login":
            return jsonify(error=error.description), 429
        message = "Too many logins from this address: wait a minute (longer if it goes on) and try again."
        return render_template("login.html", next="/", error=message), 429

    app.register_blueprint(pages)
    app.jinja_env.globals["current_identity"] = current
    if not settings.auth:
        log.warning("AUTH is off: anyone who reaches this port sees every camera and every face, and changes them")
