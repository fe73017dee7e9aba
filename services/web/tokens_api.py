"""Named API tokens over HTTP: an admin makes one per program or display, sees the list, revokes any.

Who may call these is decided in services/web/auth.py (admins only).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import ValidationError

from services.web.api_models import ErrorBody, TokenInfo, TokenList, TokenMade, TokenRequest, TokenRevoked, reply
from shared.accounts import AccountError, NameTaken
from shared.api_tokens import TokenStore
from shared.config import Settings


def create_tokens_api(settings: Settings) -> Blueprint:
    """The /api/tokens routes, on DATA_DIR's token file."""
    api = Blueprint("tokens", __name__, url_prefix="/api")
    store = TokenStore(settings.data_dir)

    @api.get("/tokens")
    def list_tokens() -> tuple[Response, int]:
        listed = [TokenInfo(name=token.name, scope=token.scope, created=token.created) for token in store.tokens()]
        return reply(TokenList(tokens=listed))

    @api.post("/tokens")
    def make_token() -> tuple[Response, int]:
        try:
            wanted = TokenRequest.model_validate(request.get_json(silent=True) or {})
            token = store.make(wanted.name, wanted.scope)
        except ValidationError:
            return reply(ErrorBody(error='send JSON {"name": "wall-display", "scope": "view" or "write"}'), 400)
        except AccountError as problem:
            return reply(ErrorBody(error=str(problem)), 409 if isinstance(problem, NameTaken) else 400)
        return reply(TokenMade(name=wanted.name.strip().lower(), scope=wanted.scope, token=token), 201)

    @api.delete("/tokens/<name>")
    def revoke_token(name: str) -> tuple[Response, int]:
        try:
            store.revoke(name)
        except AccountError as problem:
            return reply(ErrorBody(error=str(problem)), 404)
        return reply(TokenRevoked(revoked=name))

    return api
