"""Fixed-window throttling shared by every process: in the database, or in Redis.

Counting is atomic — one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on PostgreSQL
and SQLite, ``INCR`` in Redis — so a hundred parallel guesses cannot all read "zero
attempts so far". Keys are HMACs of what they count (an address, an e-mail), so the
counter table holds no personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import case
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.db import upsert_insert, utcnow
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.security.models import ThrottleCounter


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    attempts: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    count: int
    retry_after_seconds: int

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after_seconds / 60))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class TooManyAttemptsError(RefusedError):
    """A limit was reached: ``what`` were too many; try again after the window."""

    kind = Refusal.TOO_MANY

    def __init__(self, what: str, decision: Decision) -> None:
        wait = plural(decision.retry_after_minutes, "minute")
        super().__init__(f"Too many {what}. Please wait {wait} and try again.")
        self.retry_after_seconds = decision.retry_after_seconds


class CounterBackend(Protocol):
    async def hit(self, key: str, window: timedelta) -> tuple[int, int]:
        """Count one more in ``key``'s window; return (count, seconds until the window ends)."""
        ...

    async def peek(self, key: str) -> tuple[int, int]: ...

    async def reset(self, key: str) -> None: ...


class SqlCounters:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = upsert_insert(engine)

    async def hit(self, key: str, window: timedelta) -> tuple[int, int]:
        now = utcnow()
        table = ThrottleCounter.__table__
        expired = table.c.expires_at <= now
        statement = self._insert(table).values(key=key, count=1, expires_at=now + window)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, 1), else_=table.c.count + 1),
                "expires_at": case((expired, now + window), else_=table.c.expires_at),
            },
        ).returning(table.c.count, table.c.expires_at)
        async with self.engine.begin() as connection:
            count, expires_at = (await connection.execute(statement)).one()
        return count, max(0, math.ceil((expires_at - now).total_seconds()))

    async def peek(self, key: str) -> tuple[int, int]:
        now = utcnow()
        table = ThrottleCounter.__table__
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    table.select()
                    .with_only_columns(table.c.count, table.c.expires_at)
                    .where(table.c.key == key, table.c.expires_at > now)
                )
            ).one_or_none()
        if row is None:
            return 0, 0
        return row.count, math.ceil((row.expires_at - now).total_seconds())

    async def reset(self, key: str) -> None:
        table = ThrottleCounter.__table__
        async with self.engine.begin() as connection:
            await connection.execute(table.delete().where(table.c.key == key))


class RedisCounters:
    PREFIX = "smartscheduling:throttle:"

    def __init__(self, client: Redis) -> None:
        self.client = client

    async def hit(self, key: str, window: timedelta) -> tuple[int, int]:
        name = self.PREFIX + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=int(window.total_seconds()), nx=True)
            pipe.incr(name)
            pipe.ttl(name)
            _, count, ttl = await pipe.execute()
        return int(count), max(0, int(ttl))

    async def peek(self, key: str) -> tuple[int, int]:
        name = self.PREFIX + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        return (int(count), max(0, int(ttl))) if count is not None else (0, 0)

    async def reset(self, key: str) -> None:
        await self.client.delete(self.PREFIX + key)


class Throttle:
    def __init__(self, counters: CounterBackend, secret: str) -> None:
        self.counters = counters
        self._secret = secret.encode()

    def _key(self, limit: Limit, subject: str) -> str:
        digest = hmac.new(self._secret, f"{limit.name}\0{subject}".encode(), hashlib.sha256).hexdigest()
        return f"{limit.name}:{digest[:40]}"

    async def hit(self, limit: Limit, subject: str) -> Decision:
        """Count an attempt; ``allowed`` is False once the window holds more than the limit."""
        count, remaining = await self.counters.hit(self._key(limit, subject), limit.window)
        return Decision(allowed=count <= limit.attempts, count=count, retry_after_seconds=remaining)

    async def check(self, limit: Limit, subject: str) -> Decision:
        """Would one more attempt be allowed? Counts nothing."""
        count, remaining = await self.counters.peek(self._key(limit, subject))
        return Decision(allowed=count < limit.attempts, count=count, retry_after_seconds=remaining)

    async def reset(self, limit: Limit, subject: str) -> None:
        await self.counters.reset(self._key(limit, subject))
