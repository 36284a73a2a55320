"""Throttling: atomic counts shared by every process, in the database or in Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.db import create_engine, utcnow
from smartscheduling.security.models import ThrottleCounter
from smartscheduling.security.throttle import Limit, RedisCounters, SqlCounters, Throttle
from tests.conftest import TEST_SECRET, make_settings

FIVE_A_MINUTE = Limit("test", 5, timedelta(minutes=1))


async def test_parallel_attempts_cannot_slip_past_the_limit(db_engine: AsyncEngine) -> None:
    throttle = Throttle(SqlCounters(db_engine), TEST_SECRET)
    decisions = await asyncio.gather(*(throttle.hit(FIVE_A_MINUTE, "victim@example.com") for _ in range(20)))
    assert sum(d.allowed for d in decisions) == 5
    assert sorted(d.count for d in decisions) == list(range(1, 21))


async def test_parallel_attempts_in_redis(redis: Redis) -> None:
    throttle = Throttle(RedisCounters(redis), TEST_SECRET)
    decisions = await asyncio.gather(*(throttle.hit(FIVE_A_MINUTE, "victim@example.com") for _ in range(20)))
    assert sum(d.allowed for d in decisions) == 5
    assert 0 < decisions[-1].retry_after_seconds <= 60


async def test_processes_share_one_count(db_url: str, tmp_path: Path) -> None:
    """Two engines, as two web processes would have: the window is one window."""
    first, second = (create_engine(make_settings(db_url, tmp_path)) for _ in range(2))
    try:
        a, b = Throttle(SqlCounters(first), TEST_SECRET), Throttle(SqlCounters(second), TEST_SECRET)
        for throttle in (a, b, a, b, a):
            assert (await throttle.hit(FIVE_A_MINUTE, "10.0.0.1")).allowed
        assert not (await b.hit(FIVE_A_MINUTE, "10.0.0.1")).allowed
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_new_window_starts_counting_afresh(db_engine: AsyncEngine) -> None:
    throttle = Throttle(SqlCounters(db_engine), TEST_SECRET)
    for _ in range(6):
        decision = await throttle.hit(FIVE_A_MINUTE, "someone")
    assert not decision.allowed
    assert 0 < decision.retry_after_seconds <= 60
    async with db_engine.begin() as connection:  # the minute is over
        await connection.execute(update(ThrottleCounter).values(expires_at=utcnow() - timedelta(seconds=1)))
    again = await throttle.hit(FIVE_A_MINUTE, "someone")
    assert again.allowed
    assert again.count == 1


async def test_check_counts_nothing_and_reset_forgets(db_engine: AsyncEngine) -> None:
    throttle = Throttle(SqlCounters(db_engine), TEST_SECRET)
    for _ in range(5):
        await throttle.hit(FIVE_A_MINUTE, "someone")
    assert not (await throttle.check(FIVE_A_MINUTE, "someone")).allowed
    assert (await throttle.check(FIVE_A_MINUTE, "someone")).count == 5
    await throttle.reset(FIVE_A_MINUTE, "someone")
    assert (await throttle.check(FIVE_A_MINUTE, "someone")).allowed


async def test_counter_keys_hold_no_personal_data(db_engine: AsyncEngine) -> None:
    throttle = Throttle(SqlCounters(db_engine), TEST_SECRET)
    await throttle.hit(FIVE_A_MINUTE, "ada.lovelace@example.com")
    async with db_engine.connect() as connection:
        (key,) = await connection.scalars(select(ThrottleCounter.key))
    assert key.startswith("test:")
    assert "ada" not in key
    assert "example" not in key
