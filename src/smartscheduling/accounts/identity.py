"""Who is making the request: the signed-in user, loaded once per request.

The session holds only the user's id and their ``session_epoch``. Raising the epoch on
the user row (password reset, closing the account) ends every session at once, on any
session store.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Empty, Receive, Scope, Send

from smartscheduling.accounts.models import AccountStatus, Role, User
from smartscheduling.policies.services import PolicyNotice, pending_notices
from smartscheduling.security.sessions import end_sessions_of, rotate_session
from smartscheduling.web.csrf import rotate_csrf_token

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: uuid.UUID
    email: str
    name: str
    role: Role
    verified: bool
    #: Significant policy changes they have yet to acknowledge (shown on every full page;
    #: not looked up for htmx requests, which get fragments).
    policy_notices: tuple[PolicyNotice, ...] = ()

    def has_role(self, *roles: Role) -> bool:
        """Administrators may do everything any role may."""
        return self.role is Role.ADMIN or self.role in roles

    @property
    def is_staff(self) -> bool:
        return self.role is not Role.CLIENT


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    return connection.scope.get("user")


def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    """Who is signed in; for anyone else, 401 (the guards' check, and a handler's own)."""
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Please sign in to continue.")
    return user


def log_in(connection: ASGIConnection[Any, Any, Any, Any], user: User) -> None:
    """A fresh session (new id) holding only who signed in, and a fresh CSRF token."""
    connection.scope["session"] = {SESSION_USER: str(user.id), SESSION_EPOCH: user.session_epoch}
    rotate_session(connection)
    rotate_csrf_token(connection.scope)


def log_out(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Forget who signed in. The old session is deleted; should anything be added to the
    session afterwards (a flash message), it lives under a new id. The CSRF token changes too."""
    connection.scope["session"] = {}
    rotate_session(connection)
    rotate_csrf_token(connection.scope)


async def end_every_session(connection: ASGIConnection[Any, Any, Any, Any], user_id: uuid.UUID) -> None:
    """Delete all of the user's stored sessions, on every device. (Raising their
    ``session_epoch`` already makes those sessions worthless; this removes them.)"""
    await end_sessions_of(connection.app.stores.get("sessions"), str(user_id))


class IdentityMiddleware(ASGIMiddleware):
    """Sets ``scope["user"]`` to a :class:`CurrentUser` or ``None``; never refuses a request
    (guards do). A session whose user is gone, suspended or whose epoch moved on is ended."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, db_config: SQLAlchemyAsyncConfig, exclude: str | None = None) -> None:
        self.db_config = db_config
        if exclude:
            skip = re.compile(exclude)
            self.should_bypass_for_scope = lambda scope: bool(skip.search(scope["path"]))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        scope["user"] = None
        session = scope.get("session")
        user_id = session.get(SESSION_USER) if isinstance(session, dict) else None
        if user_id:
            db = self.db_config.provide_session(scope["app"].state, scope)
            try:
                user = await db.get(User, uuid.UUID(user_id))
            except ValueError:
                user = None
            if (
                user is not None
                and user.status == AccountStatus.ACTIVE
                and user.session_epoch == session.get(SESSION_EPOCH)  # type: ignore[union-attr]
            ):
                # Only a full page shows the notices: htmx requests get a fragment.
                partial = (b"hx-request", b"true") in scope["headers"]
                notices = () if partial else await pending_notices(db, user.id, user.created_at)
                scope["user"] = CurrentUser(user.id, user.email, user.name, user.role, user.is_verified, notices)
            else:
                scope["session"] = Empty
        await next_app(scope, receive, send)
