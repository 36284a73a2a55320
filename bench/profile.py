"""The Profile section under load: ``uv run python -m bench.profile [--duration 10s]``.

* ``GET /profile`` for signed-in users, and the htmx row save (``POST /profile/edit/name``
  with ``HX-Request``: validate, version check, update, audit event, row partial), each
  against the floor endpoint in the same process;
* the export of one person with 10,000 and then 100,000 audit events: time, size, and the
  server's resident memory (``VmRSS`` before, peak ``VmHWM`` after, from /proc). A
  streaming export keeps the peak flat as the history grows tenfold.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import secrets
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import BENCH_DIR, Server, ensure_database, print_table, production_env, server, wrk
from smartscheduling.accounts.models import User
from smartscheduling.audit.models import AuditEvent
from smartscheduling.config import Settings
from smartscheduling.db import create_engine, utcnow
from smartscheduling.security.passwords import PasswordHasher

USERS = 64  # round-robin over more users than connections: one user's saves never overlap
PASSWORD = "bench password for load"  # noqa: S105
EXPORTER = "bench-export@example.com"
HISTORIES = (10_000, 100_000)


def engine():
    env = production_env()
    return create_engine(Settings(database_url=env["DATABASE_URL"], secret_key=env["SECRET_KEY"]))


async def seed_users() -> None:
    db = engine()
    encoded = PasswordHasher().encode(PASSWORD)
    async with AsyncSession(db) as session:
        await session.execute(delete(User).where(User.email.like("bench-profile%@example.com")))
        await session.execute(delete(User).where(User.email == EXPORTER))
        session.add_all(
            User(email=f"bench-profile{n}@example.com", name=f"Profile {n}", password_hash=encoded,
                 email_verified_at=utcnow())
            for n in range(USERS)
        )  # fmt: skip
        session.add(User(email=EXPORTER, name="Export Bench", password_hash=encoded, email_verified_at=utcnow()))
        await session.commit()
    await db.dispose()


async def set_history(events: int) -> None:
    """Give the exporter exactly ``events`` audit events (bulk SQL: seeding is not measured)."""
    db = engine()
    async with AsyncSession(db) as session:
        person = (await session.execute(text("SELECT id FROM user_account WHERE email = :e"), {"e": EXPORTER})).scalar()
        await session.execute(delete(AuditEvent).where(AuditEvent.subject_id == person))
        await session.execute(
            text(
                "INSERT INTO audit_event (id, occurred_at, action, actor_id, subject_id, ip_prefix, details) "
                "SELECT gen_random_uuid(), now() - make_interval(secs => g), 'profile.changed', :person, :person, "
                '\'198.18.0.0/24\', \'{"fields": ["name", "phone"]}\'::jsonb FROM generate_series(1, :n) AS g'
            ),
            {"person": person, "n": events},
        )
        await session.execute(update(User).where(User.id == person).values(profile_version=1))
        await session.commit()
    await db.dispose()


def connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)


def csrf_token(url: str) -> str:
    connection = connect(url)
    connection.request("GET", "/login", headers={"X-Forwarded-Proto": "https"})
    cookie = connection.getresponse().getheader("set-cookie") or ""
    return cookie.split(";", 1)[0].split("=", 1)[1]


def sign_in(url: str, token: str, email: str) -> str:
    """A real sign-in (from its own address, so the per-IP limit is not the bench's limit)."""
    connection = connect(url)
    body = urlencode({"_csrf_token": token, "email": email, "password": PASSWORD, "next": "/profile"})
    address = f"198.19.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"__Host-csrftoken={token}",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": address,
    }
    connection.request("POST", "/login", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    cookies = [value for key, value in response.getheaders() if key.lower() == "set-cookie"]
    session = next((c.split(";", 1)[0] for c in cookies if c.startswith("__Host-session=")), None)
    if response.status != 303 or session is None:
        raise RuntimeError(f"sign-in of {email} failed: {response.status}")
    return session.split("=", 1)[1]


def signed_in(url: str, email: str) -> dict[str, str]:
    """The cookies of a fresh sign-in of ``email``, as a request header."""
    token = csrf_token(url)
    return {"Cookie": f"__Host-csrftoken={token}; __Host-session={sign_in(url, token, email)}"}


def export(running: Server, token: str, session: str) -> tuple[float, int, int]:
    """POST /profile/export; returns (seconds, bytes, rows in data.json)."""
    connection = connect(running.url)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"__Host-csrftoken={token}; __Host-session={session}",
        "X-Forwarded-Proto": "https",
    }
    started = time.perf_counter()
    connection.request("POST", "/profile/export", body=urlencode({"_csrf_token": token}), headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"export failed: {response.status}")
    archive = io.BytesIO()
    while chunk := response.read(1 << 16):
        archive.write(chunk)
    seconds = time.perf_counter() - started
    with zipfile.ZipFile(archive) as opened:
        data = json.loads(opened.read("data.json"))
    return seconds, archive.tell(), len(data["sections"]["activity"]["rows"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    ensure_database()
    asyncio.run(seed_users())
    with server(production_env()) as running:
        url = running.url
        token = csrf_token(url)
        with ThreadPoolExecutor(4) as pool:
            sessions = list(pool.map(lambda n: sign_in(url, token, f"bench-profile{n}@example.com"), range(USERS)))
        cookie = {"Cookie": f"__Host-csrftoken={token}; __Host-session={sessions[0]}"}
        saves = BENCH_DIR / "profile_save.lua"
        for path in ("/_bench/floor", "/profile"):
            wrk(url, "warm-up", path, duration="2s", connections=args.connections, headers=cookie)
        floor = wrk(url, "floor (bare endpoint)", "/_bench/floor", duration=args.duration,
                    connections=args.connections)  # fmt: skip
        page = wrk(url, "GET /profile (signed in)", "/profile", duration=args.duration,
                   connections=args.connections, headers=cookie)  # fmt: skip
        save = wrk(url, "POST row save (htmx)", "/profile/edit/name", duration=args.duration,
                   connections=args.connections, script=saves, args=[token, *sessions])  # fmt: skip
        exports = []
        exporter = sign_in(url, token, EXPORTER)
        for events in HISTORIES:
            asyncio.run(set_history(events))
            before = running.memory_kib("VmRSS")
            seconds, size, rows = export(running, token, exporter)
            exports.append((events, rows, seconds, size, before, running.memory_kib("VmHWM")))
    print_table(f"Profile, 1 worker, PostgreSQL, {args.connections} connections, {args.duration} each",
                [floor, page, save], floor)  # fmt: skip
    print("\nExport (POST /profile/export), one person, streamed ZIP")
    print(f"{'events':>8} {'rows':>8} {'seconds':>8} {'MB':>7} {'rows/s':>8} {'RSS before MB':>14} {'peak MB':>8}")
    for events, rows, seconds, size, before, peak in exports:
        print(
            f"{events:>8} {rows:>8} {seconds:>8.2f} {size / 1e6:>7.2f} {rows / seconds:>8.0f} "
            f"{before / 1024:>14.1f} {peak / 1024:>8.1f}"
        )


if __name__ == "__main__":
    main()
