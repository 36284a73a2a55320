"""Route guards. Every staff route names the roles it admits; administrators pass all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from smartscheduling.accounts.identity import signed_in
from smartscheduling.accounts.models import Role

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    signed_in(connection)


def requires_verified_email(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not signed_in(connection).verified:
        raise PermissionDeniedException("Please confirm your e-mail address first: use the link we sent you.")


def requires_role(*roles: Role) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not signed_in(connection).has_role(*roles):
            raise PermissionDeniedException("This page is for staff with the right role only.")

    guard.__name__ = f"requires_role({', '.join(role.value for role in roles)})"
    return guard
