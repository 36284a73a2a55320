"""Route guards. Every route declares who it admits, public routes included (``anyone``),
so a route that declares nothing is a mistake the route-table test catches. Every staff
route names the roles it admits; administrators pass all.

Guards are ``async``: Litestar runs a plain function guard in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from smartscheduling.accounts.identity import signed_in
from smartscheduling.accounts.models import Role, admits


@dataclass(frozen=True)
class Access:
    """A guard that says whom it admits: ``roles`` (``None``: anyone, signed in or not);
    ``verified``: only with a confirmed e-mail address."""

    name: str
    roles: frozenset[Role] | None
    verified: bool = False

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if self.roles is None:
            return
        user = signed_in(connection)  # 401 for anyone signed out
        if not user.has_role(*self.roles):
            raise PermissionDeniedException("This page is for staff with the right role only.")
        if self.verified and not user.verified:
            raise PermissionDeniedException("Please confirm your e-mail address first: use the link we sent you.")

    def admits(self, role: Role | None) -> bool:
        """Whether someone of ``role`` (``None``: signed out) passes."""
        return self.roles is None or admits(role, self.roles)


anyone = Access("anyone", roles=None)
requires_login = Access("requires_login", roles=frozenset(Role))
requires_verified_email = Access("requires_verified_email", roles=frozenset(Role), verified=True)


def requires_role(*roles: Role) -> Access:
    return Access(f"requires_role({', '.join(role.value for role in roles)})", roles=frozenset(roles))
