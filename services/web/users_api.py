"""Accounts over HTTP: an admin lists them, adds one, resets a password, changes a role, removes one.

Who may call these is decided in services/web/auth.py (admins only). The store
refuses what would leave no admin; that is a conflict with the accounts as
they are (409), not bad input (400).
"""

from __future__ import annotations

import logging
from typing import TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from services.web.api_models import (
    ErrorBody,
    PasswordChanged,
    PasswordReset,
    RoleChange,
    UserInfo,
    UserList,
    UserRemoved,
    UserRequest,
    reply,
)
from services.web.auth import current
from shared.accounts import Account, AccountError, AccountStore, LastAdmin, NameTaken, NoSuchAccount
from shared.config import Settings

log = logging.getLogger(__name__)
Body = TypeVar("Body", bound=BaseModel)


def user_info(account: Account) -> UserInfo:
    """What the API shows of an account: never the hash."""
    return UserInfo(name=account.name, role=account.role, created=account.created)


def refusal(problem: AccountError) -> tuple[Response, int]:
    """The store's refusal as an answer: 404 no such account, 409 the last admin or a taken name, 400 the rest."""
    status = 404 if isinstance(problem, NoSuchAccount) else 409 if isinstance(problem, (LastAdmin, NameTaken)) else 400
    return reply(ErrorBody(error=str(problem)), status)


def body_of(model: type[Body]) -> Body:
    """The request's JSON as ``model``; ValidationError when it is missing or does not fit."""
    return model.model_validate(request.get_json(silent=True) or {})


def by_whom() -> str:
    """Who made the change, for the log (the guard let only an admin through)."""
    who = current()
    return who.name if who else "-"


def create_users_api(settings: Settings) -> Blueprint:
    """The /api/users routes, on DATA_DIR's accounts file."""
    api = Blueprint("users", __name__, url_prefix="/api")
    store = AccountStore(settings.data_dir)

    @api.get("/users")
    def list_users() -> tuple[Response, int]:
        return reply(UserList(users=[user_info(account) for account in store.accounts()]))

    @api.post("/users")
    def add_user() -> tuple[Response, int]:
        try:
            wanted = body_of(UserRequest)
            account = store.add(wanted.name, wanted.role, wanted.password)
        except ValidationError:
            return reply(
                ErrorBody(error='send JSON {"name": "...", "role": "admin" or "viewer", "password": "..."}'), 400
            )
        except AccountError as problem:
            return refusal(problem)
        log.info("%s added the account %s (%s)", by_whom(), account.name, account.role)
        return reply(user_info(account), 201)

    @api.put("/users/<name>/password")
    def reset_password(name: str) -> tuple[Response, int]:
        try:
            store.set_password(name, body_of(PasswordReset).password)
        except ValidationError:
            return reply(ErrorBody(error='send JSON {"password": "..."}'), 400)
        except AccountError as problem:
            return refusal(problem)
        log.info("%s reset the password of %s", by_whom(), name.strip().lower())
        return reply(PasswordChanged(changed=name.strip().lower()))

    @api.put("/users/<name>/role")
    def change_role(name: str) -> tuple[Response, int]:
        try:
            account = store.set_role(name, body_of(RoleChange).role)
        except ValidationError:
            return reply(ErrorBody(error='send JSON {"role": "admin" or "viewer"}'), 400)
        except AccountError as problem:
            return refusal(problem)
        log.info("%s made %s a(n) %s", by_whom(), account.name, account.role)
        return reply(user_info(account))

    @api.delete("/users/<name>")
    def remove_user(name: str) -> tuple[Response, int]:
        try:
            store.remove(name)
        except AccountError as problem:
            return refusal(problem)
        log.info("%s removed the account %s", by_whom(), name.strip().lower())
        return reply(UserRemoved(removed=name.strip().lower()))

    return api
