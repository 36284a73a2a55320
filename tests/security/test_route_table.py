"""Who may use which route, derived from the route table: a new route that declares no
access, or lets in a role its guard names no place for, fails here."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.models import Role
from smartscheduling.db import metadata
from tests.helpers import csrf_token, post_form, sign_in
from tests.security.routes import PEOPLE, routes

#: Infrastructure that changes with any request: sessions and throttle counters.
INFRASTRUCTURE_TABLES = {"store_item", "throttle_counter"}


async def snapshot(engine: AsyncEngine) -> dict[str, list[str]]:
    """Every row of every table of personal or business data, to compare before and after."""
    async with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in await connection.execute(select(table)))
            for table in metadata.sorted_tables
            if table.name not in INFRASTRUCTURE_TABLES
        }


def test_every_route_declares_who_may_use_it(app: Litestar) -> None:
    undeclared = [str(route) for route in routes(app) if not route.guards]
    assert not undeclared, f"routes with no access declared (add guards=[anyone] if public): {undeclared}"


def test_staff_routes_are_closed_to_clients(app: Litestar) -> None:
    staff_only = [route for route in routes(app) if route.template.startswith(("/staff", "/analytics"))]
    assert staff_only
    for route in staff_only:
        assert not route.admits(None), route
        assert not route.admits(Role.CLIENT), route


#: Who may use each part of the staff console (the longest matching prefix decides). The
#: test below holds every staff route's guards to it; the one after proves each guard
#: refuses everyone else, over HTTP.
ADMINISTRATION = ("/staff/processors", "/staff/settings", "/staff/offerings", "/staff/closed-days", "/staff/schedules")
STAFF_CONSOLE: dict[str, set[Role]] = {
    "/staff": {Role.STAFF, Role.PRIVACY_OFFICER, Role.ADMIN},  # the day and week views, booking, clients, figures
    "/staff/clients/{client_id:uuid}/erase": {Role.PRIVACY_OFFICER, Role.ADMIN},
    "/staff/audit": {Role.PRIVACY_OFFICER, Role.ADMIN},
    "/staff/policies": {Role.PRIVACY_OFFICER, Role.ADMIN},
    "/staff/campaigns": {Role.PRIVACY_OFFICER, Role.ADMIN},
    "/staff/complaints": {Role.PRIVACY_OFFICER, Role.ADMIN},
    "/staff/time-off": {Role.STAFF, Role.ADMIN},  # one's own: privacy officers take no appointments
    "/staff/profile": {Role.STAFF, Role.ADMIN},
    **{prefix: {Role.ADMIN} for prefix in ADMINISTRATION},
}


def test_every_staff_route_admits_the_roles_the_console_gives_it_and_refuses_everyone_else(app: Litestar) -> None:
    staff_routes = [route for route in routes(app) if route.template.startswith("/staff")]
    assert len(staff_routes) > 50
    for route in staff_routes:
        prefix = max((p for p in STAFF_CONSOLE if route.template == p or route.template.startswith(f"{p}/")), key=len)
        admitted = {role for role in PEOPLE if route.admits(role)}
        assert admitted == STAFF_CONSOLE[prefix], f"{route} admits {admitted}"


async def test_every_route_admits_exactly_the_people_its_guards_name(
    app: Litestar, db_engine: AsyncEngine, make_user
) -> None:
    table = routes(app)
    for role in PEOPLE:
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            if role is None:
                await csrf_token(client)
            else:
                user = await make_user(email=f"{role.value}@example.com", role=role)
                await sign_in(client, user.email)
            for route in table:
                if route.method != "GET":
                    continue
                response = await client.get(route.path, follow_redirects=False)
                to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
                if route.admits(role):
                    assert response.status_code not in {401, 403}, f"{route} refused {role}"
                    assert not to_login, f"{route} sent {role} to sign in"
                elif role is None:
                    assert to_login, f"{route} did not ask a signed-out visitor to sign in"
                else:
                    assert response.status_code == 403, f"{route} let {role} in"
            before = await snapshot(db_engine)
            for route in table:
                if route.method != "POST" or route.admits(role):
                    continue
                response = await post_form(client, route.path, {})
                if role is None:
                    assert response.status_code == 303, f"{route} answered {response.status_code} signed out"
                    assert response.headers["location"].startswith("/login"), route
                else:
                    assert response.status_code == 403, f"{route} let {role} post"
            assert await snapshot(db_engine) == before, f"a refused post changed data ({role})"
