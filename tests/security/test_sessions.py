"""Server-side sessions: none for anonymous visitors, new id at login, hashed at rest,
idle and absolute expiry, logout destroys."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.app import create_app
from smartscheduling.db import create_db_config
from smartscheduling.security import sessions
from smartscheduling.security.models import StoreItem
from smartscheduling.security.sessions import SessionStore
from tests.conftest import make_settings
from tests.helpers import is_signed_in, post_form, sign_in


async def stored_keys(engine: AsyncEngine, *, indexes: bool = False) -> list[str]:
    """Keys of stored sessions (or, with ``indexes``, of the per-owner session indexes)."""
    async with engine.connect() as connection:
        keys = await connection.scalars(select(StoreItem.key).where(StoreItem.namespace == "sessions"))
        return sorted(key for key in keys if key.startswith("owner:") == indexes)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the sessions' clock forward by some seconds."""
    offset = 0.0
    real = time.time

    def advance(seconds: float) -> None:
        nonlocal offset
        offset += seconds

    monkeypatch.setattr(sessions.time, "time", lambda: real() + offset)
    return advance


async def test_anonymous_visitors_get_no_session(client: AsyncTestClient[Litestar], db_engine: AsyncEngine) -> None:
    for path in ("/", "/privacy", "/login", "/signup"):
        response = await client.get(path)
        assert "session=" not in response.headers.get("set-cookie", "")
    await post_form(client, "/login", {"email": "nobody@example.com", "password": "wrong password 123"})
    assert "session" not in client.cookies
    assert await stored_keys(db_engine) == []


async def test_login_stores_only_a_digest_of_the_session_id(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    user = await make_user()
    response = await sign_in(client, user.email)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=43200" in cookie  # the absolute lifetime, 12 hours
    session_id = client.cookies["session"]
    assert await stored_keys(db_engine) == [digest(session_id)]


async def test_login_gives_a_new_session_id_and_drops_the_old(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    user = await make_user()
    # The app runs on the test client's own loop: reach the same table through our engine.
    store = SessionStore(config=create_db_config(db_engine), model=StoreItem, namespace="sessions")
    planted = "ab" * 32  # a session id an attacker managed to plant in the victim's browser
    now = int(time.time())
    await store.set(digest(planted), b'{"_messages": [], "_meta": {"born": %d, "seen": %d}}' % (now, now), 3600)
    client.cookies.set("session", planted, domain="testserver.local")
    await sign_in(client, user.email)
    assert client.cookies["session"] != planted
    assert await stored_keys(db_engine) == [digest(client.cookies["session"])]


async def test_a_planted_unknown_session_id_is_never_adopted(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user()
    client.cookies.set("session", "cd" * 32, domain="testserver.local")
    await sign_in(client, user.email)
    assert client.cookies["session"] != "cd" * 32


async def test_logout_destroys_the_session(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    old = client.cookies["session"]
    response = await post_form(client, "/logout", {})
    assert response.status_code == 303
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert await stored_keys(db_engine) == []
    client.cookies.clear()
    client.cookies.set("session", old, domain="testserver.local")  # replaying the old cookie signs nobody in
    assert not is_signed_in((await client.get("/")).text)


async def test_idle_sessions_end(client: AsyncTestClient[Litestar], make_user, clock: Callable[[float], None]) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    clock(59 * 60)
    assert is_signed_in((await client.get("/")).text)  # 59 minutes idle: still fine, and slides
    clock(59 * 60)
    assert is_signed_in((await client.get("/")).text)
    clock(61 * 60)
    assert not is_signed_in((await client.get("/")).text)


async def test_sessions_end_after_their_absolute_lifetime_however_active(
    client: AsyncTestClient[Litestar], make_user, clock: Callable[[float], None]
) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    for _ in range(14):  # active every 50 minutes for 11 h 40 min
        clock(50 * 60)
        assert is_signed_in((await client.get("/")).text)
    clock(30 * 60)  # 12 h 10 min after signing in
    assert not is_signed_in((await client.get("/")).text)


async def test_unchanged_sessions_are_not_rewritten_on_every_request(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user, clock: Callable[[float], None]
) -> None:
    user = await make_user()
    await sign_in(client, user.email)

    async def written_until() -> object:
        async with db_engine.connect() as connection:
            return await connection.scalar(
                select(StoreItem.expires_at).where(StoreItem.key == digest(client.cookies["session"]))
            )

    after_login = await written_until()
    for _ in range(5):
        assert is_signed_in((await client.get("/")).text)
    assert await written_until() == after_login  # no write: nothing changed, idle window fresh
    clock(2 * 60)
    assert is_signed_in((await client.get("/")).text)
    assert await written_until() != after_login  # a minute on, the idle window slides


async def test_each_owner_has_an_index_of_their_sessions_that_ends_them_all(
    app: Litestar, db_engine: AsyncEngine, make_user
) -> None:
    user, other = await make_user(), await make_user()
    cookies = []
    for person in (user, user, other):
        async with AsyncTestClient(app) as device:
            await sign_in(device, person.email)
            cookies.append(device.cookies["session"])
    assert await stored_keys(db_engine) == sorted(digest(cookie) for cookie in cookies)
    assert len(await stored_keys(db_engine, indexes=True)) == 2  # one per person, named by a digest
    store = SessionStore(config=create_db_config(db_engine), model=StoreItem, namespace="sessions")
    await sessions.end_sessions_of(store, str(user.id))
    assert await stored_keys(db_engine) == [digest(cookies[2])]
    assert len(await stored_keys(db_engine, indexes=True)) == 1


async def test_production_session_cookie_is_host_prefixed_and_secure(db_url: str, tmp_path: Path, make_user) -> None:
    settings = make_settings(db_url, tmp_path, app_env="production", base_url="https://smartscheduling.test")
    user = await make_user()
    async with AsyncTestClient(app=create_app(settings), base_url="https://smartscheduling.test") as client:
        response = await client.get("/login")
        token = client.cookies["__Host-csrftoken"]
        response = await client.post(
            "/login",
            data={"_csrf_token": token, "email": user.email, "password": "correct horse battery staple"},
            follow_redirects=False,
        )
        cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-session="))
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie
    assert "Path=/" in session_cookie
    assert "Domain" not in session_cookie
