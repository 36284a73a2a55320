"""The app's route table, as tests walk it: every route a handler serves, with a
concrete address to request and the guards that decide who may."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from litestar import Litestar
from litestar.routes import HTTPRoute

from smartscheduling.accounts.guards import Access
from smartscheduling.accounts.models import Role

#: Handlers Litestar adds by itself (CORS preflight, the static files' HEAD).
GENERATED = {"options_handler", "head_handler"}
SAMPLES = {"uuid": str(uuid.UUID(int=1)), "str": "sample", "int": "1", "path": "css/app.css"}
#: Everyone a request can come from: signed out, then each role.
PEOPLE: tuple[Role | None, ...] = (None, *Role)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    path: str
    guards: tuple[Access, ...]

    def admits(self, role: Role | None) -> bool:
        return all(guard.admits(role) for guard in self.guards)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def concrete(template: str) -> str:
    return re.sub(r"\{\w+:(\w+)\}", lambda match: SAMPLES[match[1]], template)


def routes(app: Litestar, *, prefix_excluded: str = "/_test") -> list[Route]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(prefix_excluded):
            continue
        for handler in route.route_handlers:
            if handler.handler_name in GENERATED:
                continue
            guards = tuple(guard for guard in handler.resolve_guards() if isinstance(guard, Access))
            for method in sorted(handler.http_methods):
                found.append(Route(method, route.path, concrete(route.path), guards))
    return found
