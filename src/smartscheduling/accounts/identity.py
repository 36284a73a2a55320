"""Who is making the request: the signed-in user, read once per request.

The session holds only the user's id and their ``session_epoch``. Raising the epoch on
the user row (password reset, closing the account) ends every session at once, on any
session store.

The user row is read in the request's own database session (advanced-alchemy's
``db_session``, the one handlers and services get), so a service that works on the
signed-in user finds it in the identity map instead of reading it again. Handlers get
who is signed in as a dependency: ``viewer: ViewerDep`` (guarded routes: signed in
for sure) or ``visitor: VisitorDep`` (public routes that change with signing in: a
``Viewer`` or ``None``), and audit events take ``actor: ActorDep``, built once per request.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Empty, Receive, Scope, Send

from smartscheduling.accounts.models import AccountStatus, Role, User, admits
from smartscheduling.audit.service import Actor
from smartscheduling.network import network_prefix
from smartscheduling.security.sessions import end_sessions_of, rotate_session
from smartscheduling.web.csrf import rotate_csrf_token
from smartscheduling.web.http import client_ip

SESSION_USER = "uid"
SESSION_EPOCH = "epoch"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person. ``user`` is their row, loaded in this request's database
    session, for services to work on without reading it again; the rest is what pages
    show of them, copied once (a rollback in the request expires the row, never these)."""

    user: User
    id: uuid.UUID
    email: str
    name: str
    role: Role
    verified: bool
    time_zone: str | None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user, user.id, user.email, user.name, user.role, user.is_verified, user.time_zone)

    @property
    def is_staff(self) -> bool:
        return self.role is not Role.CLIENT

    def has_role(self, *roles: Role) -> bool:
        return admits(self.role, roles)


#: Handler parameters: ``viewer: ViewerDep`` (guarded routes), ``visitor: VisitorDep``.
ViewerDep = NamedDependency[Viewer]
VisitorDep = NamedDependency[Viewer | None]


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    return connection.scope.get("user")


def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer:
    """Who is signed in; for anyone else, 401 (the guards' check)."""
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Please sign in to continue.")
    return user


async def provide_viewer(request: ASGIConnection[Any, Any, Any, Any]) -> Viewer:
    """``viewer``: the signed-in person (401 for anyone else)."""
    return signed_in(request)


async def provide_visitor(request: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    """``visitor``: the signed-in person, or ``None``."""
    return current_user(request)


async def provide_actor(request: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """``actor``: who acts in this request, for audit events (the signed-in person or
    nobody, and the network the request came from)."""
    viewer = current_user(request)
    return Actor(viewer.id if viewer else None, network_prefix(client_ip(request)))


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
    """Sets ``scope["user"]`` to a :class:`Viewer` or ``None``; never refuses a request
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
            db = self.db_config.provide_session(scope["app"].state, scope)  # the request's own session
            try:
                user = await db.get(User, uuid.UUID(user_id))
            except ValueError:
                user = None
            if (
                user is not None
                and user.status == AccountStatus.ACTIVE
                and user.session_epoch == session.get(SESSION_EPOCH)  # type: ignore[union-attr]
            ):
                scope["user"] = Viewer.of(user)
            else:
                scope["session"] = Empty
        await next_app(scope, receive, send)
