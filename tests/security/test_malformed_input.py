"""Malformed input is the client's error: a 4xx page, never a 500, and nothing written."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.models import Role
from tests.helpers import csrf_token, sign_in
from tests.security.routes import routes
from tests.security.test_route_table import snapshot

BOUNDARY = "fuzzboundary"


def multipart(name: str, value: bytes, *, charset: str | None = None) -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
    content_type = f"\r\nContent-Type: text/plain; charset={charset}".encode() if charset else b""
    return b"--%s\r\n%s%s\r\n\r\n%s\r\n--%s--\r\n" % (
        BOUNDARY.encode(), disposition, content_type, value, BOUNDARY.encode()
    )  # fmt: skip


@pytest.mark.parametrize(
    "unreadable", [(b"\xff\xfe not UTF-8", None), (b"plain", "no-such-charset")], ids=["bytes", "charset"]
)
async def test_a_form_that_cannot_be_read_is_a_400_on_every_post_route(
    app: Litestar, client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user, unreadable: tuple
) -> None:
    """Before the CSRF check, whoever asks: the form cannot be read, so nothing is done."""
    value, charset = unreadable
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    before = await snapshot(db_engine)
    posts = [route for route in routes(app) if route.method == "POST"]
    assert len(posts) > 10
    for route in posts:
        for field in ("_csrf_token", "name"):
            response = await client.post(
                route.path,
                content=multipart(field, value, charset=charset),
                headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
            )
            assert response.status_code == 400, f"{route}: {response.status_code}"
            assert "<main" in response.text, route  # the error page, in the layout
    assert await snapshot(db_engine) == before


@pytest.mark.parametrize(
    "path",
    [
        "/privacy/v/2147483648",  # one past PostgreSQL's integer
        "/privacy/v/99999999999999999999",  # past 64 bits
        "/privacy/v/0",
        "/privacy/diff?from=2147483648",
        "/terms/diff?to=99999999999999999999",
    ],
)
async def test_version_numbers_no_database_holds_are_refused(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    assert "<main" in response.text


@pytest.mark.parametrize("path", ["/static/css/app.css%00.js", "/privacy?section=%00", "/login?next=/%00"])
async def test_a_nul_anywhere_in_the_address_is_a_400(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    assert "The address contains a character no page address may contain." in response.text


@pytest.mark.parametrize("path", ["/privacy%00", "/x%00y"])
async def test_a_nul_in_an_address_no_route_matches_is_a_404(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "There is no page at this address." in response.text


async def test_a_nul_in_the_address_of_a_post_is_refused_and_changes_nothing(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    token = await csrf_token(client, "/signup")
    before = await snapshot(db_engine)
    response = await client.post("/consent?next=%00", data={"_csrf_token": token, "choice": "accept-all"})
    assert response.status_code == 400
    assert await snapshot(db_engine) == before
