"""The pages of the sightings: History (who was seen, where, when) and Review (teach the matcher from them).

Both are shells: their scripts do everything through /api/sightings,
/api/visitors and /api/people with the page's login. Anyone logged in may
open them; what each login sees follows the API's rules (services/web/auth.py):
a viewer gets the rows but no face, and no action.
"""

from __future__ import annotations

from flask import Blueprint, render_template


def create_history_pages() -> Blueprint:
    """The /history and /review pages."""
    pages = Blueprint("history_pages", __name__)

    @pages.get("/history")
    def history_page() -> str:
        return render_template("history.html")

    @pages.get("/review")
    def review_page() -> str:
        return render_template("review.html")

    return pages
