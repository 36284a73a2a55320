"""A pool full of signed-in requests that must write their session keeps answering: no
request ever holds two pooled connections at once (``db.ReleaseSessionFirst``)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, live_env, serve

POOL_SIZE = 2  # and as many again in overflow: 4 connections in all
IN_FLIGHT = 32


async def test_requests_that_write_their_session_never_deadlock_a_full_pool(
    backend: str, migrated_url: str, db_url: str, tmp_path: Path, make_user
) -> None:
    del db_url  # emptied after the test
    if backend != "postgresql":
        pytest.skip("SQLite's pool is not bounded: nothing to exhaust")
    user = await make_user()
    env = live_env(migrated_url, tmp_path, DATABASE_POOL_SIZE=str(POOL_SIZE))
    async with (
        serve(env, tmp_path / "server.log") as server,
        httpx.AsyncClient(base_url=server.url, timeout=60) as browser,
    ):
        login = await browser.get("/login")
        token = re.search(r'name="_csrf_token" value="([0-9a-f]+)"', login.text)
        assert token
        form = {"_csrf_token": token[1], "email": user.email, "password": PASSWORD}
        assert (await browser.post("/login", data=form)).status_code == 303
        # A flash waits in the session: every request below pops it, so every one writes
        # its session (the database store needs a connection for that) as it answers.
        unchanged = {"_csrf_token": browser.cookies["csrftoken"], "name": user.name, "version": "1"}
        assert (await browser.post("/profile/edit/name", data=unchanged)).status_code == 303
        async with asyncio.timeout(25):  # the pool's own timeout is 30 s: a deadlock fails here
            answers = await asyncio.gather(*(browser.get("/profile") for _ in range(IN_FLIGHT)))
    assert [answer.status_code for answer in answers] == [200] * IN_FLIGHT
