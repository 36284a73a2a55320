"""Display choices of visitors without an account, kept in the ``display`` cookie
(category ``preferences``): only with consent, and read only while consent lasts."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from litestar.datastructures import Cookie

from smartscheduling.config import Settings
from smartscheduling.consent.decision import state_of
from smartscheduling.consent.registry import Category, cookie_name

TEXT_SIZES = {"standard": "Standard", "large": "Large", "larger": "Larger"}


def display_cookie(values: Mapping[str, str], settings: Settings, lifetime: datetime.timedelta) -> Cookie:
    return Cookie(
        key=cookie_name("display", settings),
        value="&".join(f"{key}:{value}" for key, value in values.items()),  # "=" would make it a quoted string
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


def text_size(context: Mapping[str, Any]) -> str:
    """The visitor's remembered text size (a template callable), ``standard`` when none
    is remembered, the cookie is malformed or preferences are not allowed (any more)."""
    request = context["request"]
    state = state_of(request.scope)
    if not state.allows(Category.PREFERENCES):
        return "standard"
    raw = request.cookies.get(cookie_name("display", request.app.state.settings), "")
    values = dict(part.split(":", 1) for part in raw.split("&") if part.count(":") == 1)
    size = values.get("text", "standard")
    return size if size in TEXT_SIZES else "standard"
