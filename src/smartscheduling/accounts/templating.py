"""What pages know of the signed-in person: ``current_user()`` (a :class:`Viewer` or
``None``) and ``Role``, for checks like ``viewer.has_role(Role.ADMIN)``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine

from smartscheduling.accounts.identity import Viewer
from smartscheduling.accounts.models import Role


def _current_user(context: Mapping[str, Any]) -> Viewer | None:
    # Also on pages no route matched (404s), which get no user.
    return context["request"].scope.get("user")


def register(engine: JinjaTemplateEngine) -> None:
    engine.register_template_callable("current_user", _current_user)
    engine.engine.globals["Role"] = Role
