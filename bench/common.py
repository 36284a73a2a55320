"""Shared benchmark plumbing: a production-like server on PostgreSQL, and wrk."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

from smartscheduling.config import Settings
from smartscheduling.db import create_engine, run_alembic, upgrade

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/ss_bench")


#: The seeded benches' business: a salon in Berlin with the default booking rules.
BUSINESS_SQL = (
    "INSERT INTO business (id, name, time_zone, country, subdivision, slot_step_minutes, notice_minutes, "
    "horizon_days, cutoff_hours, reminder_hours, currency, version, updated_at) "
    "VALUES (1, 'Bench salon', 'Europe/Berlin', 'DE', 'BE', 15, 120, 60, 24, 24, 'EUR', 1, now())"
)
#: The columns of a seeded appointment row, in COPY order.
APPOINTMENT_COLUMNS = ["id", "client_id", "staff_id", "offering_id", "starts_at", "ends_at", "occupied_from",
                       "occupied_until", "price_cents", "currency", "status", "sequence", "history", "version",
                       "created_at", "updated_at"]  # fmt: skip


@dataclass
class Server:
    url: str
    pid: int

    def memory_kib(self, field: str) -> int:
        """``VmRSS`` (now) or ``VmHWM`` (peak) of the server process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise KeyError(field)


@dataclass
class Result:
    name: str
    path: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx_3xx: int


def production_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BASE_URL": "https://bench.smartscheduling.test",
        "DATABASE_URL": DATABASE_URL,
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "LOG_LEVEL": "INFO",
        "SMTP_URL": "smtp://127.0.0.1:1",  # the bench sends no mail; production insists on a setting
        **extra,
    }


async def connect(url: str, database: str = "postgres") -> asyncpg.Connection:
    """A plain asyncpg connection to ``database`` on the server of ``url`` (COPY, CREATE DATABASE)."""
    parts = make_url(url)
    return await asyncpg.connect(host=parts.host, port=parts.port or 5432, user=parts.username, database=database)


async def prepare_database(url: str, settings: Settings, *, seeded_when: str) -> bool:
    """Create the database of ``url`` if missing and migrate it to head; ``False`` when it
    is already seeded (the table ``seeded_when`` has rows), so a bench seeds it once."""
    name = make_url(url).database
    admin = await connect(url)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    engine = create_engine(settings)
    try:
        await run_alembic(engine, upgrade, "head")
    finally:
        await engine.dispose()
    seeded = await connect(url, name)  # type: ignore[arg-type]
    try:
        return not await seeded.fetchval(f"SELECT count(*) FROM {seeded_when}")
    finally:
        await seeded.close()


def ensure_database() -> None:
    """Create the bench database if missing, and migrate it to head."""
    name = DATABASE_URL.rsplit("/", 1)[1]
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    subprocess.run([sys.executable, "-m", "smartscheduling.cli", "db", "upgrade"], env=production_env(), check=True)


@contextlib.contextmanager
def server(env: dict[str, str], app: str = "bench.asgi:app") -> Iterator[Server]:
    """One uvicorn worker, production settings, behind a (simulated) TLS proxy."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    RESULTS.mkdir(exist_ok=True)
    log = (RESULTS / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--proxy-headers", "--no-access-log", "--no-server-header"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # a benchmark may poll; the test suite never does
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("bench server did not start; see bench/results/server.log") from None
                time.sleep(0.1)
        yield Server(url=url, pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wrk(url: str, name: str, path: str, *, duration: str, connections: int, headers: dict[str, str] | None = None,
        script: Path | None = None, args: list[str] | None = None, timeout: str = "2s") -> Result:  # fmt: skip
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}", f"--timeout={timeout}", "--latency",
               "-s", str(script or BENCH_DIR / "report.lua")]  # fmt: skip
    for key, value in {"X-Forwarded-Proto": "https", **(headers or {})}.items():
        command += ["-H", f"{key}: {value}"]
    command.append(url + path)
    if args:
        command += ["--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return Result(name=name, path=path, **data)


def against_floor(url: str, pages: list[tuple[str, str, dict[str, str]]], *, duration: str,
                  connections: int) -> list[Result]:  # fmt: skip
    """The floor, then each ``(name, path, headers)`` page, each warmed up first; the
    floor's result first (``print_table``'s ``floor``)."""
    for _, path, headers in [("floor", "/_bench/floor", {}), *pages]:
        wrk(url, "warm-up", path, duration="2s", connections=connections, headers=headers)
    floor = wrk(url, "floor (bare endpoint)", "/_bench/floor", duration=duration, connections=connections)
    return [floor, *(wrk(url, name, path, duration=duration, connections=connections, headers=headers,
                         timeout="10s") for name, path, headers in pages)]  # fmt: skip


def print_table(title: str, results: list[Result], floor: Result) -> None:
    print(f"\n{title}")
    print(f"{'endpoint':<28} {'req/s':>9} {'ratio':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        print(
            f"{r.name:<28} {r.rps:>9.0f} {r.rps / floor.rps:>7.2f} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.errors + r.non_2xx_3xx:>7}"
        )
