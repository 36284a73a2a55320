"""Sign-in throughput, and how ``/`` fares while 16 clients sign in continuously:
``uv run python -m bench.login [--duration 15s]``.

PBKDF2 at 1,200,000 iterations is deliberately slow; what matters is that it runs off
the event loop, so pages stay quick while sign-ins queue for the hashing threads.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import threading
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import BENCH_DIR, Result, ensure_database, print_table, production_env, server, wrk
from smartscheduling.accounts.models import User
from smartscheduling.config import Settings
from smartscheduling.db import create_engine, utcnow
from smartscheduling.security.passwords import PasswordHasher

ACCOUNTS = 1000
PASSWORD = "bench password for load"  # noqa: S105


async def seed_accounts() -> None:
    env = production_env()
    engine = create_engine(Settings(database_url=env["DATABASE_URL"], secret_key=env["SECRET_KEY"]))
    encoded = PasswordHasher().encode(PASSWORD)  # one real hash, shared: seeding stays fast
    async with AsyncSession(engine) as session:
        await session.execute(delete(User).where(User.email.like("bench%@example.com")))
        session.add_all(
            User(email=f"bench{n}@example.com", name=f"Bench {n}", password_hash=encoded, email_verified_at=utcnow())
            for n in range(1, ACCOUNTS + 1)
        )
        await session.commit()
    await engine.dispose()


def csrf_token(url: str) -> str:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", "/login", headers={"X-Forwarded-Proto": "https"})
    cookie = connection.getresponse().getheader("set-cookie") or ""
    return cookie.split(";", 1)[0].split("=", 1)[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", default="15s")
    args = parser.parse_args()
    ensure_database()
    asyncio.run(seed_accounts())
    with server(production_env()) as running:
        url = running.url
        token = csrf_token(url)
        wrk(url, "warm-up", "/", duration="2s", connections=4)
        alone = wrk(url, "/ alone (4 connections)", "/", duration=args.duration, connections=4)
        logins: list[Result] = []

        def sign_ins() -> None:
            logins.append(
                wrk(url, "POST /login (16 clients)", "/login", duration=args.duration, connections=16,
                    script=BENCH_DIR / "login.lua", args=[token, str(ACCOUNTS)], timeout="30s")
            )  # fmt: skip

        thread = threading.Thread(target=sign_ins)
        thread.start()
        during = wrk(url, "/ during the sign-ins", "/", duration=args.duration, connections=4)
        thread.join()
    print_table("Sign-in load, 1 worker, PostgreSQL (ratio: against / alone)", [alone, during, *logins], alone)
    print(f"\nsign-ins per second: {logins[0].rps:.1f}  (errors or non-3xx answers: {logins[0].non_2xx_3xx})")


if __name__ == "__main__":
    main()
