"""With REDIS_URL set, sessions and throttle counters live in Redis."""

from __future__ import annotations

import hashlib
from pathlib import Path

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.app import create_app
from smartscheduling.security.models import StoreItem, ThrottleCounter
from tests.conftest import REDIS_TEST_URL, make_settings
from tests.helpers import is_signed_in, post_form, sign_in


async def test_sessions_and_counters_go_to_redis(
    redis: Redis, db_url: str, db_engine: AsyncEngine, tmp_path: Path, make_user
) -> None:
    user = await make_user()
    settings = make_settings(db_url, tmp_path, redis_url=REDIS_TEST_URL)
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        await sign_in(client, user.email, "a wrong password first")
        await sign_in(client, user.email)
        assert is_signed_in((await client.get("/")).text)
        session_key = f"smartscheduling:sessions:{hashlib.sha256(client.cookies['session'].encode()).hexdigest()}"
        assert await redis.exists(session_key)
        assert 0 < await redis.ttl(session_key) <= 3600  # the idle timeout
        assert [k async for k in redis.scan_iter("smartscheduling:throttle:login-network:*")]
        await post_form(client, "/logout", {})
        assert not await redis.exists(session_key)
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(StoreItem)) == 0
        assert await connection.scalar(select(func.count()).select_from(ThrottleCounter)) == 0
