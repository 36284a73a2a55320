"""The client directory and one client's erasure at scale: ``uv run python -m bench.clients``.

A PostgreSQL database of its own (``BENCH_CLIENTS_DATABASE_URL``, default
``…/ss_bench_clients``), seeded once with COPY: 1,000,000 clients (names drawn from
accented and plain first and last names, a German mobile number each), 20 staff and
1,000,000 past appointments spread over the clients, plus one client with 500. Then:

* the directory's search (``ClientService.search``, the page staff see: 50 rows with
  the last visit of each) by a 3-letter fragment of a name and by the last 4 digits of a
  phone: p50/p95 over random queries;
* anonymizing, then deleting, a client with 500 appointments (``ErasureService``, the
  whole registry in one transaction): time of each (the database copied first, so both
  see the same client).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import make_url, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.common import APPOINTMENT_COLUMNS, BUSINESS_SQL, connect, prepare_database
from smartscheduling.accounts.models import Role, User, folded
from smartscheduling.audit.service import Actor
from smartscheduling.config import Settings
from smartscheduling.db import create_engine
from smartscheduling.personal_data import Erasure
from smartscheduling.registry import REGISTRY
from smartscheduling.scheduling.booking import BookingService
from smartscheduling.staff.clients import ClientService
from smartscheduling.staff.erasure import ErasureService

DATABASE_URL = os.environ.get(
    "BENCH_CLIENTS_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/ss_bench_clients"
)
CLIENTS, STAFF, APPOINTMENTS, RICH = 1_000_000, 20, 1_000_000, 500
FIRST = (
    "Anna",
    "Zoë",
    "Björn",
    "Léa",
    "Jürgen",
    "María",
    "Noah",
    "Chloé",
    "Søren",
    "Ines",
    "Omar",
    "Mia",
    "Luca",
    "Emma",
    "Jonas",
    "Élodie",
    "Ömer",
    "Sara",
    "Tomás",
    "Yuki",
    "Aylin",
    "Felix",
    "Hanna",
    "Ivan",
)
LAST = (
    "Müller",
    "Schmidt",
    "García",
    "Rossi",
    "Dubois",
    "Nowak",
    "Öztürk",
    "Jensen",
    "Silva",
    "Kowalski",
    "Martín",
    "Weiß",
    "Bianchi",
    "Lefèvre",
    "Novák",
    "Hansen",
    "Costa",
    "Fischer",
    "Wagner",
    "Becker",
)


def settings(url: str = DATABASE_URL) -> Settings:
    return Settings.from_env({"DATABASE_URL": url, "APP_ENV": "development"})


async def admin(database: str = "postgres") -> asyncpg.Connection:
    return await connect(DATABASE_URL, database)


async def create_database() -> bool:
    """Create and migrate the database; ``False`` when it is already seeded."""
    return await prepare_database(DATABASE_URL, settings(), seeded_when="user_account")


def client_row(n: int, rng: random.Random, now: datetime.datetime) -> tuple[object, ...]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}"
    phone = f"+49151{rng.randrange(10**7, 10**8)}"
    email = f"client{n}@bench.example"
    search = folded(f"{name} {phone[1:]} {email}")
    return (uuid.uuid4(), email, name, "!", "client", "active", 0, now, now, True, False, False, 1, phone, search)


async def seed() -> None:
    rng = random.Random(15)  # noqa: S311 (made-up data)
    now = datetime.datetime.now(datetime.UTC)
    connection = await admin(make_url(DATABASE_URL).database)  # type: ignore[arg-type]
    columns = ["id", "email", "name", "password_hash", "role", "status", "session_epoch", "created_at", "updated_at",
               "notify_reminders_email", "notify_reminders_sms", "notify_news", "profile_version", "phone",
               "search_text"]  # fmt: skip
    try:
        async with connection.transaction():
            started = time.perf_counter()
            clients = [client_row(n, rng, now) for n in range(CLIENTS)]
            staff = [
                (uuid.uuid4(), f"staff{n}@bench.example", f"Staff {n}", "!", "staff", "active", 0, now, now, True,
                 False, False, 1, None, f"staff {n} staff{n}@bench.example")
                for n in range(STAFF)
            ]  # fmt: skip
            await connection.copy_records_to_table("user_account", records=clients + staff, columns=columns)
            await connection.execute(BUSINESS_SQL)
            trim = uuid.uuid4()
            await connection.execute(
                "INSERT INTO offering (id, name, description, duration_minutes, price_cents, buffer_before_minutes,"
                " buffer_after_minutes, version, created_at, updated_at)"
                " VALUES ($1, 'Quick trim', '', 30, 1500, 0, 0, 1, now(), now())",
                trim,
            )
            rich = clients[0][0]
            first = now.replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=3 * 365)

            def appointments():  # 30-minute slots per staff member, back to back, in the past
                for n in range(APPOINTMENTS + RICH):
                    member, slot = staff[n % STAFF][0], n // STAFF
                    start = first + datetime.timedelta(minutes=30 * slot)
                    end = start + datetime.timedelta(minutes=30)
                    person = rich if n < RICH else clients[rng.randrange(1, CLIENTS)][0]
                    yield (uuid.uuid4(), person, member, trim, start, end, start, end, 1500, "EUR", "completed", 0,
                           "[]", 1, now, now)  # fmt: skip

            await connection.copy_records_to_table(
                "appointment", records=appointments(),
                columns=APPOINTMENT_COLUMNS,
            )  # fmt: skip
            await connection.copy_records_to_table(
                "client_note", records=[(uuid.uuid4(), rich, staff[0][0], f"Note {n}", now) for n in range(20)],
                columns=["id", "client_id", "author_id", "body", "created_at"],
            )  # fmt: skip
            print(f"seeded {CLIENTS:,} clients and {APPOINTMENTS + RICH:,} appointments in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def percentiles(timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms ({len(timings)} queries)"


async def timed(runs: int, query: Callable[[int], Awaitable[int]]) -> tuple[list[float], list[int]]:
    timings, found = [], []
    for n in range(runs):
        started = time.perf_counter()
        found.append(await query(n))
        timings.append(1000 * (time.perf_counter() - started))
    return timings, found


async def search(engine: AsyncEngine, runs: int) -> None:
    rng = random.Random(16)  # noqa: S311 (made-up queries)
    now = datetime.datetime.now(datetime.UTC)
    names = [folded(name) for name in (*FIRST, *LAST)]
    fragments = [(name := rng.choice(names))[(i := rng.randrange(len(name) - 2)) : i + 3] for _ in range(runs)]
    tails = [f"{rng.randrange(10_000):04d}" for _ in range(runs)]
    async with AsyncSession(engine) as session:
        service = ClientService(session, BookingService(session, domain="bench"))

        def by(queries: list[str]) -> Callable[[int], Awaitable[int]]:
            async def query(n: int) -> int:
                return len((await service.search(queries[n], after=None, now=now)).rows)

            return query

        for what, queries in (("a 3-letter fragment of a name", fragments), ("the last 4 digits of a phone", tails)):
            timings, found = await timed(runs, by(queries))
            print(f"search by {what}: {percentiles(timings)}; {statistics.mean(found):.0f} rows a page on average")


async def erase(runs: int) -> None:
    """Anonymize and delete the client with 500 appointments, each on a fresh copy."""
    name = make_url(DATABASE_URL).database
    for how in (Erasure.ANONYMIZE, Erasure.DELETE):
        timings = []
        for run in range(runs):
            copy = f"{name}_erase_{run}"
            connection = await admin()
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{copy}"')
                await connection.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
            finally:
                await connection.close()
            engine = create_engine(settings(make_url(DATABASE_URL).set(database=copy).render_as_string(False)))
            try:
                async with AsyncSession(engine) as session:
                    rich = await session.scalar(select(User).where(User.email == "client0@bench.example"))
                    officer = await session.scalar(select(User.id).where(User.role == Role.STAFF).limit(1))
                    started = time.perf_counter()
                    await ErasureService(session, REGISTRY).erase(
                        rich, how, reason="bench", actor=Actor(officer, None), now=datetime.datetime.now(datetime.UTC)
                    )  # type: ignore[arg-type]
                    timings.append(1000 * (time.perf_counter() - started))
            finally:
                await engine.dispose()
                connection = await admin()
                try:
                    await connection.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
                finally:
                    await connection.close()
        print(f"{how.value} a client with {RICH} appointments: {', '.join(f'{t:.0f} ms' for t in timings)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="queries per kind of search")
    parser.add_argument("--erasures", type=int, default=3, help="runs of each erasure (0: none)")
    args = parser.parse_args()
    if await create_database():
        await seed()
    engine = create_engine(settings())
    try:
        await search(engine, args.runs)
    finally:
        await engine.dispose()
    if args.erasures:
        await erase(args.erasures)


if __name__ == "__main__":
    asyncio.run(main())
