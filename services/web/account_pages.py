"""The pages of accounts: the admin's Users page (accounts and named tokens) and everyone's Account page (password).

Both are shells: their scripts do everything through /api/users, /api/tokens
and /api/me/password. Who may open them is decided in services/web/auth.py
(/users is an admin's read; /account a viewer's, like any page).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from shared.accounts import MIN_PASSWORD_LENGTH


def create_account_pages() -> Blueprint:
    """The /users and /account pages."""
    pages = Blueprint("account_pages", __name__)

    @pages.get("/users")
    def users_page() -> str:
        return render_template("users.html", min_password=MIN_PASSWORD_LENGTH)

    @pages.get("/account")
    def account_page() -> str:
        return render_template("account.html", min_password=MIN_PASSWORD_LENGTH)

    return pages
