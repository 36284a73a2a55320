"""The front desk's day view under load: ``uv run python -m bench.dayview [--duration 10s]``.

A PostgreSQL database of its own (``BENCH_DAYVIEW_DATABASE_URL``, default
``…/ss_bench_dayview``), seeded once with COPY: 20 staff working 09:00-13:00 and
14:00-18:00 every day in Europe/Berlin (the hour between shaded as a break), 10,000
clients, and two years of full days around the day it was seeded: every staff member
booked back to back in 30-minute appointments (16 a day, 320 blocks in the day view,
233,600 appointments in all). Then, signed in as a front-desk staff member, under wrk
with one uvicorn worker:

* ``GET /staff?day=…`` (the whole page: 20 columns, every block with client, service
  and status) and the grid alone as htmx asks for it every 15 s from each open tablet:
  req/s as a ratio of the bare floor in the same process, and p50/p95/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import time
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import make_url

from bench.common import (
    APPOINTMENT_COLUMNS,
    BUSINESS_SQL,
    against_floor,
    connect,
    prepare_database,
    print_table,
    production_env,
    server,
)
from bench.profile import PASSWORD, signed_in
from smartscheduling.config import Settings
from smartscheduling.security.passwords import PasswordHasher

DATABASE_URL = os.environ.get(
    "BENCH_DAYVIEW_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/ss_bench_dayview"
)
ZONE = ZoneInfo("Europe/Berlin")
STAFF, CLIENTS, DAYS = 20, 10_000, 730
HOURS = ((9 * 60, 13 * 60), (14 * 60, 18 * 60))
SLOT = 30  # minutes
DESK = "desk@bench.example"


def settings() -> Settings:
    return Settings.from_env({"DATABASE_URL": DATABASE_URL, "APP_ENV": "development"})


async def seed() -> None:
    rng = random.Random(23)  # noqa: S311 (made-up data)
    now = datetime.datetime.now(datetime.UTC)
    today = now.astimezone(ZONE).date()
    columns = ["id", "email", "name", "password_hash", "role", "status", "session_epoch", "created_at", "updated_at",
               "notify_reminders_email", "notify_reminders_sms", "notify_news", "profile_version", "search_text",
               "email_verified_at"]  # fmt: skip

    def person(kind: str, n: int, *, email: str = "", password: str = "!") -> tuple[object, ...]:  # noqa: S107 (no password: "!")
        email, name = email or f"{kind}{n}@bench.example", f"{kind.title()} {n}"
        return (uuid.uuid4(), email, name, password, kind, "active", 0, now, now, True, False, False, 1,
                f"{name.lower()} {email}", now)  # fmt: skip

    connection = await connect(DATABASE_URL, make_url(DATABASE_URL).database)  # type: ignore[arg-type]
    try:
        async with connection.transaction():
            started = time.perf_counter()
            staff = [person("staff", n) for n in range(STAFF)]
            clients = [person("client", n) for n in range(CLIENTS)]
            desk = person("staff", STAFF, email=DESK, password=PasswordHasher().encode(PASSWORD))
            await connection.copy_records_to_table("user_account", records=[*staff, *clients, desk], columns=columns)
            await connection.execute(BUSINESS_SQL)
            cut, colour = uuid.uuid4(), uuid.uuid4()
            await connection.copy_records_to_table(
                "offering",
                records=[(cut, "Haircut", "", SLOT, 3800, 0, 0, 1, now, now),
                         (colour, "Colour", "", SLOT, 5200, 0, 0, 1, now, now)],
                columns=["id", "name", "description", "duration_minutes", "price_cents", "buffer_before_minutes",
                         "buffer_after_minutes", "version", "created_at", "updated_at"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "offering_staff", records=[(o, s[0]) for o in (cut, colour) for s in staff],
                columns=["offering_id", "user_id"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "working_hours", records=[(s[0], d, a, b) for s in staff for d in range(7) for a, b in HOURS],
                columns=["user_id", "weekday", "start_minute", "end_minute"],
            )  # fmt: skip
            days = [today + datetime.timedelta(days=n - DAYS // 2) for n in range(DAYS)]

            def appointments():
                for day in days:
                    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=ZONE)
                    for member in staff:
                        for first, last in HOURS:
                            for minute in range(first, last, SLOT):
                                start = (midnight + datetime.timedelta(minutes=minute)).astimezone(datetime.UTC)
                                end = start + datetime.timedelta(minutes=SLOT)
                                past = day < today
                                status = rng.choice(("completed", "completed", "no_show")) if past else "booked"
                                yield (uuid.uuid4(), rng.choice(clients)[0], member[0], rng.choice((cut, colour)),
                                       start, end, start, end, 3800, "EUR", status, 0, "[]", 1, now, now)  # fmt: skip

            await connection.copy_records_to_table(
                "appointment", records=appointments(),
                columns=APPOINTMENT_COLUMNS,
            )  # fmt: skip
            count = await connection.fetchval("SELECT count(*) FROM appointment")
            print(f"seeded {STAFF} staff, {CLIENTS:,} clients, {count:,} appointments in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def prepare() -> None:
    if await prepare_database(DATABASE_URL, settings(), seeded_when="appointment"):
        await seed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(prepare())
    today = datetime.datetime.now(ZONE).date()
    with server(production_env(DATABASE_URL=DATABASE_URL)) as running:
        cookie = signed_in(running.url, DESK)
        path = f"/staff?day={today.isoformat()}"
        grid = {**cookie, "HX-Request": "true", "HX-Target": "day-grid"}
        pages = [("GET /staff (day, 20 staff)", path, cookie), ("grid refresh (htmx)", path, grid)]
        results = against_floor(running.url, pages, duration=args.duration, connections=args.connections)
    print_table(f"The day view, 1 worker, PostgreSQL, {args.connections} connections, {args.duration} each",
                results, results[0])  # fmt: skip


if __name__ == "__main__":
    main()
