"""The bench app with database counters: ``bench.asgi`` plus ``/_bench/counters``.

Counts, in this process, what each request costs the database: statements sent
(``before_cursor_execute``), the ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` that really go
to the server (counted in SQLAlchemy's asyncpg adapter, where they are sent: on an
``AUTOCOMMIT`` connection none are), pre-pings, and pool checkouts (connections a
request takes). Round trips to PostgreSQL are the sum of statements, wrappers and pings.
``GET /_bench/counters`` answers the counts so far and starts them again from zero.
"""

from __future__ import annotations

from collections import Counter

from litestar import MediaType, get
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, PGDialect_asyncpg
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from bench.asgi import app, floor  # noqa: F401 (the floor is registered there)

counts: Counter[str] = Counter()


def _count(name: str):
    def listener(*_args: object, **_kwargs: object) -> None:
        counts[name] += 1

    return listener


event.listen(Engine, "before_cursor_execute", _count("statements"))
event.listen(Pool, "checkout", _count("connections"))

_start, _commit, _rollback = (
    AsyncAdapt_asyncpg_connection._start_transaction,
    AsyncAdapt_asyncpg_connection.commit,
    AsyncAdapt_asyncpg_connection.rollback,
)


async def _counted_start(self: AsyncAdapt_asyncpg_connection) -> None:
    if self.isolation_level != "autocommit":
        counts["begin"] += 1
    await _start(self)


def _counted_end(name: str, end):
    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        if self._transaction is not None:
            counts[name] += 1
        end(self)

    return counted


AsyncAdapt_asyncpg_connection._start_transaction = _counted_start  # type: ignore[method-assign]
AsyncAdapt_asyncpg_connection.commit = _counted_end("commit", _commit)  # type: ignore[method-assign]
AsyncAdapt_asyncpg_connection.rollback = _counted_end("rollback", _rollback)  # type: ignore[method-assign]

_ping = PGDialect_asyncpg.do_ping


def _counted_ping(self: PGDialect_asyncpg, dbapi_connection: object) -> bool:
    counts["pings"] += 1
    return _ping(self, dbapi_connection)


PGDialect_asyncpg.do_ping = _counted_ping  # type: ignore[method-assign]


@get("/_bench/counters", media_type=MediaType.JSON, sync_to_thread=False, include_in_schema=False)
def counters() -> dict[str, int]:
    snapshot = dict(counts)
    counts.clear()
    return snapshot


app.register(counters)
