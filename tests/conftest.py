"""Shared fixtures: both databases, the app, a live server and real Chromium.

* Every test that asks for ``db_url`` (directly or through ``client``/``app``) runs once on
  SQLite and once on PostgreSQL. Each backend gets one database migrated to head per
  session; every table is emptied after each test.
* PostgreSQL or Chromium missing: those tests skip with the reason on a developer's
  machine, and **fail** when ``CI`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import delete, insert, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.app import create_app
from smartscheduling.config import Settings
from smartscheduling.consent.firewall import UNDECLARED_COOKIE
from smartscheduling.consent.registry import declared
from smartscheduling.db import create_engine, metadata, run_alembic, utcnow
from smartscheduling.mail.delivery import DeliveryReport, SmtpSender, deliver_due
from smartscheduling.policies.models import PolicyVersion
from smartscheduling.policies.text import shipped_versions
from smartscheduling.security import passwords
from smartscheduling.security.passwords import PasswordHasher
from tests.mailbox import Mailbox

CI = bool(os.environ.get("CI"))
#: The project's own command, as installed in this environment.
CLI = str(Path(sys.executable).parent / "smartscheduling")
CHROMIUM = Path("/usr/bin/chromium")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
#: pytest-xdist's worker number (0 without xdist): each worker has databases of its own.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
#: A Redis database number of its own per worker (15, 14, …), emptied before and after
#: each test that uses it.
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - WORKER % 16}")
TEST_SECRET = "test-secret-" + "k3y!" * 10
BACKENDS = ("sqlite", "postgresql")
#: PostgreSQL's SQLSTATE for a lock not granted within ``lock_timeout``.
LOCK_NOT_AVAILABLE = "55P03"
# As the machine notes advise: headless, no sandbox as root, nothing phoning home.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, which must never pass on skips."""
    if CI:
        pytest.fail(f"{reason} (CI is set: this must run)", pytrace=False)
    pytest.skip(reason)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """Creates empty databases for tests and drops them at the end of the session."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self._pg_names: list[str] = []
        self._pg_checked: str | None = None

    async def _pg_admin(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(_asyncpg_dsn(TEST_DATABASE_URL), timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            unavailable(f"PostgreSQL is not reachable at TEST_DATABASE_URL={TEST_DATABASE_URL}: {exc}")
            raise

    async def create(self, backend: str) -> str:
        name = f"ss_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp_dir / (name + '.sqlite3')}"
        admin = await self._pg_admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self._pg_names.append(name)
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        if not self._pg_names:
            return
        admin = await self._pg_admin()
        try:
            for name in self._pg_names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": "development",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "base_url": "http://testserver.local",
        "var_dir": tmp_path / "var",
        "smtp_url": "smtp://127.0.0.1:1",  # tests deliver mail themselves (see `deliver`)
        "embedded_worker": False,
    }
    values |= overrides
    return Settings(**values)  # type: ignore[arg-type]


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Every table emptied, then the shipped version-1 policies published again (as the
    migration did).

    On PostgreSQL ``TRUNCATE`` waits for every lock on the tables. A request the live
    server is still answering as the test ends can hold one while it waits for a second
    connection whose lock queues behind the ``TRUNCATE``: nobody would ever give way.
    So the ``TRUNCATE`` gives way (a short ``lock_timeout``) and tries again.
    """
    for attempt in range(30):
        try:
            await _empty(engine)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE or attempt == 29:
                raise
        else:
            return


async def _empty(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            await connection.execute(text("SET LOCAL lock_timeout = '1s'"))
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(delete(table))
        await connection.execute(
            insert(PolicyVersion),
            [{"id": uuid.uuid4(), "created_at": row["published_at"], **row} for row in shipped_versions()],
        )


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    factory = Databases(tmp_path_factory.mktemp("databases"))
    yield factory
    await factory.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
async def migrated_url(backend: str, databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per backend for the whole session, migrated to head."""
    url = await databases.create(backend)
    engine = create_engine(make_settings(url, tmp_path_factory.mktemp("migrate")))
    try:
        await run_alembic(engine, command.upgrade, "head")
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def db_url(migrated_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """The backend's migrated database, emptied again after the test."""
    yield migrated_url
    engine = create_engine(make_settings(migrated_url, tmp_path))
    try:
        await empty_all_tables(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
async def db_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


# --- people and mail -------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


# --- every cookie is declared --------------------------------------------------------


class _UndeclaredCookies(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == UNDECLARED_COOKIE:
            self.names.append(record.fields["cookie"])  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def every_cookie_is_declared(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails any test in which the app tried to set a cookie missing from the cookie
    registry (the firewall drops and logs it), or a client received one anyway."""
    watcher = _UndeclaredCookies()
    consent_log = logging.getLogger("smartscheduling.consent")
    consent_log.addHandler(watcher)
    received: list[str] = []
    send = httpx.AsyncClient.send

    async def watched_send(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> httpx.Response:
        response = await send(self, *args, **kwargs)
        received.extend(header.split("=", 1)[0] for header in response.headers.get_list("set-cookie"))
        return response

    monkeypatch.setattr(httpx.AsyncClient, "send", watched_send)
    yield
    consent_log.removeHandler(watcher)
    if request.node.get_closest_marker("undeclared_cookies_expected"):
        return
    undeclared = sorted({*watcher.names, *(name for name in received if declared(name) is None)})
    assert not undeclared, f"cookies not declared in smartscheduling.consent.registry.COOKIES: {undeclared}"


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One real PBKDF2 hash of PASSWORD, computed once: users made by tests share it."""
    return PasswordHasher().encode(PASSWORD)


@pytest.fixture
def make_user(db_engine: AsyncEngine, password_hash: str):
    """Insert a user directly; returns the row (detached)."""
    counter = iter(range(1, 10_000))

    async def make(**fields: object) -> User:
        number = next(counter)
        values: dict[str, object] = {
            "email": f"person{number}@example.com",
            "name": f"Person {number}",
            "password_hash": password_hash,
            "role": Role.CLIENT,
            "country": "US",
            "email_verified_at": utcnow(),
        }
        values |= fields
        user = User(**values)
        async with AsyncSession(db_engine, expire_on_commit=False) as session:
            session.add(user)
            await session.commit()
        return user

    return make


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Iteration counts of every PBKDF2 derivation made while the test runs (in any thread
    or event loop of this process: the module-level function is replaced)."""
    seen: list[int] = []
    real = passwords._pbkdf2

    def counting(password: str, salt: bytes, iterations: int) -> bytes:
        seen.append(iterations)
        return real(password, salt, iterations)

    monkeypatch.setattr(passwords, "_pbkdf2", counting)
    return seen


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except OSError as exc:
        await client.aclose()
        unavailable(f"Redis is not reachable at {REDIS_TEST_URL} (TEST_REDIS_URL): {exc}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="session")
async def smtp_server() -> AsyncIterator[Mailbox]:
    """A real SMTP server (aiosmtpd) in the test event loop."""
    mailbox = Mailbox()
    await mailbox.start()
    yield mailbox
    await mailbox.stop()


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Mailbox:
    smtp_server.reset()
    return smtp_server


@pytest.fixture
def deliver(db_engine: AsyncEngine, mailbox: Mailbox):
    """Run the outbox delivery once, over real SMTP into ``mailbox``."""

    async def run() -> DeliveryReport:
        return await deliver_due(
            db_engine, SmtpSender(mailbox.url), mail_from="Smart Scheduling <no-reply@smartscheduling.com>"
        )

    return run


# --- a real server process ----------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    log: Path


@asynccontextmanager
async def serve(env: dict[str, str], log: Path, *serve_args: str) -> AsyncIterator[LiveServer]:
    """Run ``smartscheduling serve`` (the Procfile's web process) in a child process on a
    socket bound here.

    The socket listens before the child starts, so a request made at once simply waits
    in the backlog until the server accepts it: no polling, no sleeping.
    """

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    child_env = {**os.environ, "BASE_URL": url, "LOG_LEVEL": "WARNING", **env}
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            CLI, "serve", "--fd", str(sock.fileno()), *serve_args,
            pass_fds=(sock.fileno(),), env=child_env, stdout=log_file, stderr=log_file,
        )  # fmt: skip
    sock.close()
    try:
        async with httpx.AsyncClient(timeout=60) as probe:
            try:
                await probe.get(f"{url}/healthz")
            except httpx.HTTPError as exc:
                output = await asyncio.to_thread(log.read_text, errors="replace")
                msg = f"live server did not start: {exc}\n{output}"
                raise RuntimeError(msg) from exc
        yield LiveServer(url=url, log=log)
    finally:
        process.terminate()
        await process.wait()


def live_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a development server on the test database."""
    return {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "VAR_DIR": str(var_dir),
        "EMBEDDED_WORKER": "false",  # tests deliver the outbox themselves, deterministically
        # Tests publish policy versions straight into the database, behind the server's
        # back: it must not trust its copy for the usual few seconds.
        "POLICY_CACHE_SECONDS": "0",
        **extra,
    }


@pytest.fixture(scope="session")
async def live_server(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    var_dir = tmp_path_factory.mktemp("live-var")
    async with serve(live_env(migrated_url, var_dir), var_dir / "server.log") as server:
        yield server


@pytest.fixture
def live_url(live_server: LiveServer, db_url: str) -> str:
    """The live server's base URL; its database is emptied after the test."""
    del db_url
    return live_server.url


# --- real Chromium -------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(params=["js", "nojs"])
def javascript(request: pytest.FixtureRequest) -> bool:
    """Every browser flow runs with JavaScript on (htmx swaps) and off (plain forms)."""
    return request.param == "js"


@pytest.fixture
async def page(browser: object, live_server: LiveServer, live_url: str, javascript: bool) -> AsyncIterator[object]:
    """A fresh browser context (no cookies) on the live server; fails the test on any
    console error, e.g. a Content-Security-Policy violation. ("Failed to load resource"
    is Chromium's note on any 4xx/5xx answer: tests assert those statuses themselves.)"""
    context = await browser.new_context(base_url=live_url, java_script_enabled=javascript)  # type: ignore[attr-defined]
    tab = await context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    cookies = [cookie["name"] for cookie in await context.cookies()]
    await context.close()
    assert not problems, f"browser console errors: {problems}"
    undeclared = [name for name in cookies if declared(name) is None]
    assert not undeclared, f"the browser holds cookies not declared in the registry: {undeclared}"
    server_log = await asyncio.to_thread(live_server.log.read_text, errors="replace")
    assert UNDECLARED_COOKIE not in server_log, "the live server tried to set an undeclared cookie (see its log)"
