"""Booking at the size the scheduling issue names: ``uv run python -m bench.booking``.

A PostgreSQL database of its own (``BENCH_BOOKING_DATABASE_URL``, default
``…/ss_bench_booking``), seeded once with COPY: 200 staff working 08:00-18:00 six days a
week in Europe/Berlin, 100,000 clients and 2,000,000 appointments over two years (one
behind "now", one ahead; 20-minute ones, 16 on each working day). Then:

* availability of a 45-minute service (15 minutes kept free after it) for "anyone" over
  14 days, database reads included (``BookingService.free_times``): p50/p95;
* booking throughput: 32 concurrent clients for 30 s, each picking a random free time
  of a random one of 20 staff in the coming week and booking it through
  ``BookingService.book``: bookings/s, the share refused as taken (the 409s), and the
  overlaps found afterwards by SQL (must be 0);
* the ``/book`` day page and its htmx time list under wrk, as ratios of the bare floor.
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
from zoneinfo import ZoneInfo

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.common import (
    APPOINTMENT_COLUMNS,
    BUSINESS_SQL,
    connect,
    prepare_database,
    print_table,
    production_env,
    server,
    wrk,
)
from smartscheduling.accounts.models import Role, User
from smartscheduling.audit.service import Actor
from smartscheduling.config import Settings
from smartscheduling.db import create_engine
from smartscheduling.scheduling.booking import BookingService, SlotTakenError, UnavailableTimeError
from smartscheduling.scheduling.models import THE_BUSINESS, Business, Offering

DATABASE_URL = os.environ.get(
    "BENCH_BOOKING_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/ss_bench_booking"
)
ZONE = ZoneInfo("Europe/Berlin")
STAFF, CLIENTS, APPOINTMENTS = 200, 100_000, 2_000_000
#: "Now" for the bench, as for the server it starts: today, the middle of the two years
#: of appointments (seeded around the day the database was first made).
TODAY = datetime.datetime.now(ZoneInfo("Europe/Berlin")).date()
NOW = datetime.datetime.combine(TODAY, datetime.time(7), tzinfo=ZONE).astimezone(datetime.UTC)
SLOT = 20  # minutes: the seeded appointments
OPEN, CLOSE = 8 * 60, 18 * 60
PER_DAY = 16


def settings() -> Settings:
    return Settings.from_env({"DATABASE_URL": DATABASE_URL, "APP_ENV": "development", "DATABASE_POOL_SIZE": "40"})


async def create_database() -> bool:
    """Create and migrate the database; ``False`` when it is already seeded."""
    return await prepare_database(DATABASE_URL, settings(), seeded_when="appointment")


async def seed() -> None:
    """Everything with COPY, in one transaction: seconds for the users, a few minutes for
    the appointments (the exclusion constraint's GiST index grows with them)."""
    rng = random.Random(14)  # noqa: S311 (made-up data)
    now = datetime.datetime.now(datetime.UTC)
    connection = await connect(DATABASE_URL, make_url(DATABASE_URL).database)  # type: ignore[arg-type]
    try:
        async with connection.transaction():
            staff = [uuid.uuid4() for _ in range(STAFF)]
            clients = [uuid.uuid4() for _ in range(CLIENTS)]
            users = [
                (person, f"{role.value}{n}@bench.example", f"{role.value.title()} {n}", "!", role.value, "active", 0,
                 now, now, True, False, False, 1)
                for role, people in ((Role.STAFF, staff), (Role.CLIENT, clients))
                for n, person in enumerate(people)
            ]  # fmt: skip
            await connection.copy_records_to_table(
                "user_account", records=users,
                columns=["id", "email", "name", "password_hash", "role", "status", "session_epoch", "created_at",
                         "updated_at", "notify_reminders_email", "notify_reminders_sms", "notify_news",
                         "profile_version"],
            )  # fmt: skip
            await connection.execute(BUSINESS_SQL)
            cut, trim = uuid.uuid4(), uuid.uuid4()
            await connection.copy_records_to_table(
                "offering",
                records=[
                    (cut, "Haircut", "", 45, 3800, 0, 15, 1, now, now),
                    (trim, "Quick trim", "", SLOT, 1500, 0, 0, 1, now, now),
                ],
                columns=["id", "name", "description", "duration_minutes", "price_cents", "buffer_before_minutes",
                         "buffer_after_minutes", "version", "created_at", "updated_at"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "offering_staff",
                records=[(o, s) for o in (cut, trim) for s in staff],
                columns=["offering_id", "user_id"],
            )
            await connection.copy_records_to_table(
                "working_hours", records=[(s, d, OPEN, CLOSE) for s in staff for d in range(6)],
                columns=["user_id", "weekday", "start_minute", "end_minute"],
            )  # fmt: skip
            first = TODAY - datetime.timedelta(days=365)
            working = [first + datetime.timedelta(days=n) for n in range(730)]
            working = [day for day in working if day.weekday() < 6]
            per_staff = APPOINTMENTS // STAFF
            slots = (CLOSE - OPEN) // SLOT

            def rows():
                for person in staff:
                    made = 0
                    for day in working:
                        if made >= per_staff:
                            break
                        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=ZONE)
                        for slot in sorted(rng.sample(range(slots), PER_DAY))[: per_staff - made]:
                            start = (midnight + datetime.timedelta(minutes=OPEN + SLOT * slot)).astimezone(datetime.UTC)
                            end = start + datetime.timedelta(minutes=SLOT)
                            yield (uuid.uuid4(), rng.choice(clients), person, trim, start, end, start, end, 1500,
                                   "EUR", "booked", 0, "[]", 1, now, now)  # fmt: skip
                            made += 1

            started = time.perf_counter()
            await connection.copy_records_to_table(
                "appointment", records=rows(),
                columns=APPOINTMENT_COLUMNS,
            )  # fmt: skip
            print(f"seeded {APPOINTMENTS:,} appointments in {time.perf_counter() - started:.0f} s")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def the_offering(session: AsyncSession) -> tuple[Business, Offering]:
    business = await session.get_one(Business, THE_BUSINESS)
    offering = (await session.execute(text("SELECT id FROM offering WHERE name = 'Haircut'"))).scalar_one()
    return business, await session.get_one(Offering, offering)


async def availability(engine: AsyncEngine, runs: int) -> None:
    days = [TODAY + datetime.timedelta(days=n) for n in range(14)]
    timings, offered = [], 0
    for _ in range(runs):
        async with AsyncSession(engine) as session:
            service = BookingService(session, domain="bench")
            business, offering = await the_offering(session)
            started = time.perf_counter()
            staff = await service.performers(offering)
            free = await service.free_times(business, offering, staff, days, now=NOW)
            timings.append(1000 * (time.perf_counter() - started))
            offered = len(free)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f'\navailability, "anyone" ({len(staff)} staff), 14 days, {offered} start times: '
          f"p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms ({runs} runs)")  # fmt: skip


async def booking_throughput(engine: AsyncEngine, seconds: float, clients: int) -> None:
    async with AsyncSession(engine) as session:
        _business, offering = await the_offering(session)
        staff = list(await BookingService(session, domain="bench").performers(offering))[:20]
        people = (await session.execute(select_clients(clients))).scalars().all()
    deadline = time.perf_counter() + seconds
    booked = taken = other = 0
    week = [TODAY + datetime.timedelta(days=n) for n in range(7)]

    async def client(person: uuid.UUID, rng: random.Random) -> None:
        nonlocal booked, taken, other
        while time.perf_counter() < deadline:
            member = rng.choice(staff)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                service = BookingService(session, domain="bench")
                mine = await session.get_one(Offering, offering.id)
                here = await session.get_one(Business, THE_BUSINESS)
                free = await service.free_times(here, mine, [member], [rng.choice(week)], now=NOW)
                if not free:
                    continue
                user = await session.get_one(User, person)
                try:
                    await service.book(here, mine, user, rng.choice(free).start, staff_id=member.id, now=NOW,
                                       actor=Actor(person, "127.0.0.0/24"))  # fmt: skip
                    booked += 1
                except SlotTakenError:
                    taken += 1
                except UnavailableTimeError:
                    other += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(person, random.Random(n)) for n, person in enumerate(people)))  # noqa: S311
    elapsed = time.perf_counter() - started
    async with engine.connect() as connection:
        overlaps = await connection.scalar(
            text(
                "SELECT count(*) FROM (SELECT occupied_from, lag(occupied_until) OVER "
                "(PARTITION BY staff_id ORDER BY occupied_from) AS previous_end FROM appointment "
                "WHERE status = 'booked') ordered WHERE previous_end > occupied_from"
            )
        )
    attempts = booked + taken + other
    print(f"\nbooking, {clients} concurrent clients, 20 staff, the coming week, {elapsed:.0f} s: "
          f"{booked / elapsed:.1f} bookings/s, {taken / max(attempts, 1):.1%} refused as taken (409), "
          f"{other} otherwise refused; overlaps afterwards: {overlaps}")  # fmt: skip


def select_clients(count: int):
    return text("SELECT id FROM user_account WHERE role = 'client' ORDER BY id LIMIT :n").bindparams(n=count)


async def main_async(args: argparse.Namespace) -> None:
    if await create_database():
        await seed()
    engine = create_engine(settings())
    try:
        if not args.skip_availability:
            await availability(engine, args.runs)
        if not args.skip_booking:
            await booking_throughput(engine, args.seconds, args.clients)
        async with AsyncSession(engine) as session:
            _, offering = await the_offering(session)
    finally:
        await engine.dispose()
    with server(production_env(DATABASE_URL=DATABASE_URL, DATABASE_POOL_SIZE="10")) as running:
        day = f"/book/{offering.id}?staff=anyone&day={(TODAY + datetime.timedelta(days=1)).isoformat()}"  # tomorrow
        floor = wrk(running.url, "floor", "/_bench/floor", duration=args.duration, connections=16)
        # Two connections: each page works out 14 days for 200 staff (about a second), so
        # more would only queue behind the one worker and time out.
        page = wrk(running.url, "/book day page", day, duration=args.duration, connections=2, timeout="30s")
        times = wrk(running.url, "/book time list (htmx)", day, duration=args.duration, connections=2,
                    timeout="30s", headers={"HX-Request": "true", "HX-Target": "picker"})  # fmt: skip
    print_table("the booking pages (one uvicorn worker, 200 staff, today's clock)", [floor, page, times], floor)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--skip-availability", action="store_true")
    parser.add_argument("--skip-booking", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
