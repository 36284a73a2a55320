"""What every full page shows of the policies: the notices of significant changes the
signed-in person has yet to acknowledge. Looked up for full pages only (a GET that is
not an htmx request), never for POSTs and fragments, which do not show them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine

from smartscheduling.accounts.identity import current_user
from smartscheduling.policies.models import PolicyKind
from smartscheduling.policies.services import PolicyNotice, PolicyService

_NOTICES = "policy_notices"


def load_notices(db_config: SQLAlchemyAsyncConfig) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A ``before_request`` hook: the notices, in the request's own database session."""

    async def before_request(request: Request[Any, Any, Any]) -> None:
        viewer = current_user(request)
        if viewer is None or request.method != "GET" or request.headers.get("hx-request") == "true":
            return
        joined = viewer.user.created_at
        if not await request.app.state.latest_versions.significant_since(joined):
            return  # nothing significant was published since they joined: no notice can be due
        db = db_config.provide_session(request.app.state, request.scope)
        request.scope.setdefault("state", {})[_NOTICES] = await PolicyService(db).pending_notices(viewer.id, joined)

    return before_request


def _notices(context: Mapping[str, Any]) -> tuple[PolicyNotice, ...]:
    return context["request"].scope.get("state", {}).get(_NOTICES, ())


def register(engine: JinjaTemplateEngine) -> None:
    engine.register_template_callable("policy_notices", _notices)
    engine.engine.globals["PolicyKind"] = PolicyKind  # where each policy is: PolicyKind.PRIVACY.path
