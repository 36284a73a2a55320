"""The privacy officer's complaint queue at scale: ``uv run python -m bench.complaints``.

A PostgreSQL database of its own (``BENCH_COMPLAINTS_DATABASE_URL``, default
``…/ss_bench_complaints``), seeded once with COPY: 50,000 complaints received over the
last three years (a tenth not resolved yet, some answered, some waiting), each with its
received event. Then, signed in as a privacy officer, ``GET /staff/complaints`` (the 100
most urgent, the counts and flags) under wrk with one uvicorn worker: req/s as a ratio
of the bare floor in the same process, and p50/p95/p99.
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

from bench.common import BUSINESS_SQL, against_floor, connect, prepare_database, print_table, production_env, server
from bench.profile import PASSWORD, signed_in
from smartscheduling.business_days import BusinessCalendar
from smartscheduling.complaints.services import RESOLVE_WITHIN, RESPOND_WITHIN_BUSINESS_DAYS
from smartscheduling.config import Settings
from smartscheduling.security.passwords import PasswordHasher

DATABASE_URL = os.environ.get(
    "BENCH_COMPLAINTS_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/ss_bench_complaints"
)
COMPLAINTS = 50_000
OFFICER = "officer@bench.example"
CALENDAR = BusinessCalendar(ZoneInfo("Europe/Berlin"), "DE", "BE")


def settings() -> Settings:
    return Settings.from_env({"DATABASE_URL": DATABASE_URL, "APP_ENV": "development"})


async def seed() -> None:
    rng = random.Random(16)  # noqa: S311 (made-up data)
    now = datetime.datetime.now(datetime.UTC)
    connection = await connect(DATABASE_URL, make_url(DATABASE_URL).database)  # type: ignore[arg-type]
    try:
        async with connection.transaction():
            started = time.perf_counter()
            await connection.execute(
                "INSERT INTO user_account (id, email, name, password_hash, role, status, session_epoch, created_at, "
                "updated_at, notify_reminders_email, notify_reminders_sms, notify_news, profile_version, "
                "search_text, email_verified_at) VALUES ($1, $2, 'Olga Officer', $3, 'privacy_officer', 'active', 0, "
                "now(), now(), true, false, false, 1, 'olga officer', now())",
                uuid.uuid4(), OFFICER, PasswordHasher().encode(PASSWORD),
            )  # fmt: skip
            await connection.execute(BUSINESS_SQL)
            complaints, events, per_year = [], [], {}
            for n in range(COMPLAINTS):
                received = now - datetime.timedelta(days=3 * 365 * (1 - n / COMPLAINTS), minutes=rng.randrange(600))
                local = received.astimezone(CALENDAR.zone)
                per_year[local.year] = number = per_year.get(local.year, 0) + 1
                counts_from = CALENDAR.counts_from(received)
                unresolved = n >= COMPLAINTS * 0.9
                answered = not unresolved or rng.random() < 0.5
                status = ("waiting" if rng.random() < 0.3 else "open") if unresolved else "resolved"
                complaint = uuid.uuid4()
                complaints.append((
                    complaint, local.year, number, f"Complainant {n}", f"complainant{n}@bench.example",
                    "Something went wrong with my data.", "form", received, counts_from,
                    CALENDAR.add(counts_from, RESPOND_WITHIN_BUSINESS_DAYS), local.date() + RESOLVE_WITHIN,
                    received + datetime.timedelta(days=2) if answered else None, status,
                    None if unresolved else received + datetime.timedelta(days=9), "" if unresolved else "Resolved.",
                    1, received, received,
                ))  # fmt: skip
                events.append((uuid.uuid4(), complaint, "received", "", False, received))
            await connection.copy_records_to_table(
                "complaint", records=complaints,
                columns=["id", "year", "number", "name", "email", "details", "channel", "received_at", "counts_from",
                         "respond_by", "resolve_by", "first_response_at", "status", "resolved_at", "outcome",
                         "version", "created_at", "updated_at"],
            )  # fmt: skip
            await connection.copy_records_to_table(
                "complaint_event", records=events, columns=["id", "complaint_id", "kind", "body", "internal", "at"]
            )
            await connection.copy_records_to_table(
                "complaint_number", records=list(per_year.items()), columns=["year", "last"]
            )
            print(f"seeded {COMPLAINTS:,} complaints in {time.perf_counter() - started:.0f} s")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def prepare() -> None:
    if await prepare_database(DATABASE_URL, settings(), seeded_when="complaint"):
        await seed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(prepare())
    with server(production_env(DATABASE_URL=DATABASE_URL)) as running:
        cookie = signed_in(running.url, OFFICER)
        pages = [("GET /staff/complaints", "/staff/complaints", cookie),
                 ("…?status=resolved", "/staff/complaints?status=resolved", cookie)]  # fmt: skip
        results = against_floor(running.url, pages, duration=args.duration, connections=args.connections)
    print_table(f"The complaint queue ({COMPLAINTS:,} complaints), 1 worker, PostgreSQL, {args.connections} "
                f"connections, {args.duration} each", results, results[0])  # fmt: skip


if __name__ == "__main__":
    main()
