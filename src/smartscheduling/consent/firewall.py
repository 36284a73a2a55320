"""The cookie firewall: the server, not a banner script, enforces consent.

A plain ASGI wrapper around the whole application (see ``app.py``), so no route,
middleware, error page or static file can get a cookie past it. For every response it
reads the visitor's consent (the consent cookie this response sets, else the one the
request carried, and the ``Sec-GPC`` header) and removes each ``Set-Cookie`` that

* names a cookie not declared in ``registry.COOKIES`` (logged as an error: a bug), or
* belongs to an optional category the visitor has not allowed (logged as a warning).

Deleting a cookie (``Max-Age=0``) always passes: withdrawing must be able to clean up.
When a browser starts sending Global Privacy Control after its visitor allowed
analytics, the firewall records the withdrawal (method ``gpc``) and updates the consent
cookie, on the next page it serves. It also counts page views, per day and route, for visitors who allowed analytics.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.config import Settings
from smartscheduling.consent.decision import (
    ConsentState,
    Decision,
    consent_cookie,
    read_state,
    remember_state,
    state_of,
)
from smartscheduling.consent.registry import Category, cookie_name, declared
from smartscheduling.consent.services import ConsentService, PageViewService

logger = logging.getLogger("smartscheduling.consent")
UNDECLARED_COOKIE = "undeclared cookie dropped"


def _cookie_name(header: str) -> str:
    return header.split("=", 1)[0].strip()


def _deletes(header: str) -> bool:
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    return any(attribute.replace(" ", "") in ("max-age=0", "max-age=-1") for attribute in attributes)


class CookieFirewall:
    def __init__(
        self, app: ASGIApp, settings: Settings, engine: AsyncEngine, policy_version: Callable[[], Awaitable[int]]
    ) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        self.policy_version = policy_version
        self.consent_cookie = cookie_name("consent", settings)

    def _decision_set_by(self, headers: list[str]) -> Decision | None:
        for header in headers:
            if _cookie_name(header) == self.consent_cookie:
                value = header.split("=", 1)[1].split(";", 1)[0]
                return Decision.decode(value, self.settings.secret_key)
        return None

    def filter(self, scope: Scope, set_cookies: list[str]) -> list[str]:
        """The ``Set-Cookie`` values that may leave, given the consent in force."""
        state = state_of(scope)
        decided_now = self._decision_set_by(set_cookies)
        if decided_now is not None:
            state = ConsentState(decision=decided_now, gpc=state.gpc, consent_id=decided_now.consent_id)
            remember_state(scope, state)
        allowed = []
        for header in set_cookies:
            name = _cookie_name(header)
            declaration = declared(name)
            if declaration is None:
                logger.error(UNDECLARED_COOKIE, extra={"fields": {"cookie": name[:64]}})
            elif declaration.category is Category.NECESSARY or _deletes(header) or state.allows(declaration.category):
                allowed.append(header)
            else:
                logger.warning(
                    "cookie dropped: no consent",
                    extra={"fields": {"cookie": name, "category": declaration.category.value}},
                )
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers.from_scope(scope)
        cookies = ASGIConnection(scope).cookies if "cookie" in request_headers else {}
        remember_state(scope, read_state(request_headers, cookies, self.settings, await self.policy_version()))
        counted = False

        async def send_filtered(message: Message) -> None:
            nonlocal counted
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                set_cookies = headers.getall("set-cookie", [])
                if self._is_page(scope, message, headers) and self._decision_set_by(set_cookies) is None:
                    set_cookies += await self._withdraw_for_gpc(scope)
                if set_cookies:
                    del headers["set-cookie"]
                    for header in self.filter(scope, set_cookies):
                        headers.add("set-cookie", header)
                counted = self._counts(scope, message, headers)
            await send(message)

        await self.app(scope, receive, send_filtered)
        if counted:  # after the response went out: the visitor never waits for it
            try:
                async with AsyncSession(self.engine) as session:
                    await PageViewService(session).count(scope["path_template"])
            except SQLAlchemyError:
                logger.warning("page view not counted: database unavailable")

    async def _withdraw_for_gpc(self, scope: Scope) -> list[str]:
        state = state_of(scope)
        if state.decision is None or not state.gpc_overrides_analytics:
            return []
        user = scope.get("user")
        try:
            async with AsyncSession(self.engine) as session:
                decision = await ConsentService(session).record_gpc_withdrawal(
                    state.decision, user.id if user else None
                )
        except SQLAlchemyError:
            logger.exception("could not record a GPC withdrawal; analytics stays refused for this request")
            return []
        return [consent_cookie(decision, self.settings).to_header(header="")]

    @staticmethod
    def _is_page(scope: Scope, message: Message, headers: MutableScopeHeaders) -> bool:
        """A whole page of the site, as a browser asked for it."""
        return bool(
            scope["method"] == "GET"
            and message["status"] == 200
            and scope.get("path_template")
            and headers.get("content-type", "").startswith("text/html")
            and not any(name == b"hx-request" for name, _ in scope["headers"])
        )

    def _counts(self, scope: Scope, message: Message, headers: MutableScopeHeaders) -> bool:
        state = state_of(scope)
        return state.allows(Category.ANALYTICS) and self._is_page(scope, message, headers)
