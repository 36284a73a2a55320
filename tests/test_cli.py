"""The smartscheduling command: create-user, seed-demo and the worker process."""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import socket
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.accounts.seed import DEMO_USERS
from smartscheduling.mail.outbox import enqueue
from smartscheduling.scheduling.models import Appointment, AppointmentStatus, Business, Offering, WorkingHours
from smartscheduling.scheduling.seed import DEMO_STYLIST, DEMO_WALK_IN
from smartscheduling.security.passwords import PasswordHasher
from tests.helpers import run_command
from tests.mailbox import Mailbox

CLI = str(Path(sys.executable).parent / "smartscheduling")


def cli_env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "DATABASE_URL": db_url, "VAR_DIR": str(tmp_path), **extra}


async def users(engine: AsyncEngine) -> list[User]:
    async with AsyncSession(engine) as session:
        return list(await session.scalars(select(User).order_by(User.email)))


async def test_create_user_prompts_for_a_good_password(db_url: str, db_engine: AsyncEngine, tmp_path: Path) -> None:
    answers = "short\nshort\nlantern tablet key for shifts\nlantern tablet key for shifts\n"
    result = await run_command(
        CLI, "create-user", "--email", "Desk@Example.com", "--role", "staff", "--name", "Front Desk",
        env=cli_env(db_url, tmp_path), stdin=answers,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Use at least 12 characters" in result.stderr
    assert "Created staff account desk@example.com" in result.stdout
    (user,) = await users(db_engine)
    assert (user.email, user.name, user.role) == ("desk@example.com", "Front Desk", Role.STAFF)
    assert user.email_verified_at is not None
    assert PasswordHasher().verify_sync("lantern tablet key for shifts", user.password_hash)
    again = await run_command(
        CLI, "create-user", "--email", "desk@example.com", "--role", "admin",
        env=cli_env(db_url, tmp_path), stdin="another fine passphrase\nanother fine passphrase\n",
    )  # fmt: skip
    assert again.returncode == 1
    assert "exists already" in again.stderr


async def test_seed_demo_creates_one_user_of_each_role(db_url: str, db_engine: AsyncEngine, tmp_path: Path) -> None:
    result = await run_command(CLI, "seed-demo", env=cli_env(db_url, tmp_path))
    assert result.returncode == 0, result.stderr
    created = await users(db_engine)
    stylist = DEMO_STYLIST["email"], Role.STAFF  # the demo business's third stylist, who never signs in
    walk_in = None, Role.CLIENT  # and a client known only to staff
    assert {(u.email, u.role) for u in created} == {(email, role) for role, email, _, _ in DEMO_USERS} | {
        stylist,
        walk_in,
    }
    for role, email, _, password in DEMO_USERS:
        assert f"{email:<22} {password}" in result.stdout
        user = next(u for u in created if u.email == email)
        assert PasswordHasher().verify_sync(password, user.password_hash), role
    robin = next(u for u in created if u.email == DEMO_STYLIST["email"])
    assert not PasswordHasher().verify_sync("", robin.password_hash)
    assert DEMO_STYLIST["email"] not in result.stdout


async def test_seed_demo_sets_up_the_demo_business(db_url: str, db_engine: AsyncEngine, tmp_path: Path) -> None:
    result = await run_command(CLI, "seed-demo", env=cli_env(db_url, tmp_path))
    assert result.returncode == 0, result.stderr
    async with AsyncSession(db_engine) as session:
        business = await session.get(Business, 1)
        offered = (await session.scalars(select(Offering.name).order_by(Offering.name))).all()
        hours = await session.scalar(select(func.count(func.distinct(WorkingHours.user_id))))
        client = await session.scalar(select(User).where(User.email == "client@example.com"))
        assert client is not None
        starts = (await session.scalars(select(Appointment.starts_at).where(Appointment.client_id == client.id))).all()
    assert business is not None
    assert (business.name, business.time_zone, business.country) == ("Studio Lumen (demo)", "Europe/Berlin", "DE")
    assert offered == ["Beard trim", "Colour", "Haircut"]
    assert hours == 3  # the staff member's, the administrator's and the third stylist's weeks
    today = business.local_date(datetime.datetime.now(datetime.UTC))
    days = sorted((business.local_date(start) - today).days for start in starts)
    assert len(days) == 3
    assert days[0] < 0 == days[1] < days[2]  # one past, one today (for the day view), one to come
    async with AsyncSession(db_engine) as session:
        wanda = await session.scalar(select(User).where(User.name == DEMO_WALK_IN["name"]))
        assert wanda is not None
        visits = sorted(await session.scalars(select(Appointment.status).where(Appointment.client_id == wanda.id)))
    assert (wanda.has_account, wanda.contact_email, visits) == (
        False,
        "wanda@example.com",
        [AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED],  # today's, and one last week
    )


async def test_seed_demo_is_refused_in_production(db_url: str, tmp_path: Path) -> None:
    env = cli_env(
        db_url, tmp_path, APP_ENV="production", SECRET_KEY="Zq8vN3pX7rT1mK5wB9cD2fG6hJ4lS0aE",
        BASE_URL="https://smartscheduling.test", SMTP_URL="smtp://127.0.0.1:1",
    )  # fmt: skip
    result = await run_command(CLI, "seed-demo", env=env)
    assert result.returncode == 2
    assert "seed-demo is for development databases only" in result.stderr


async def test_the_worker_process_delivers_and_stops_cleanly(
    db_url: str, db_engine: AsyncEngine, tmp_path: Path, mailbox: Mailbox
) -> None:
    async with AsyncSession(db_engine) as session:
        enqueue(session, "password_changed", to="ada@example.com", context={"name": "Ada", "reset_url": "x"})
        await session.commit()
    process = await asyncio.create_subprocess_exec(
        CLI, "worker", env=cli_env(db_url, tmp_path, SMTP_URL=mailbox.url, LOG_LEVEL="INFO"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        (message,) = await asyncio.wait_for(mailbox.wait_for(1), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert message["To"] == "ada@example.com"
    assert process.returncode == 0, stderr.decode()
    assert b'"msg": "worker stopped"' in stderr


async def test_run_migrates_seeds_and_serves_a_fresh_database(tmp_path: Path) -> None:
    """The README's first command, on an empty SQLite file."""
    import httpx

    database = tmp_path / "fresh.sqlite3"
    with socket.socket() as probe:  # a free port for the child to bind
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output: list[str] = []
    try:
        async with asyncio.timeout(120):
            assert process.stdout is not None
            while not any("Uvicorn running on" in line for line in output):
                line = (await process.stdout.readline()).decode()
                assert line, "".join(output)
                output.append(line)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/")).status_code == 200
            assert (await http.get("/privacy")).status_code == 200
    finally:
        process.terminate()
        await process.wait()
    text = "".join(output)
    assert "Demo sign-ins (development only):" in text
    assert "client@example.com" in text
    assert f"Serving development on http://127.0.0.1:{port}" in text
    assert database.exists()
