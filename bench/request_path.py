"""The request path under load: ``uv run python -m bench.request_path [--store db|redis|both]``.

For ``/``, ``/privacy``, a signed-in ``GET /profile``, the htmx row save and
``POST /consent`` (htmx), each beside the bare endpoint in the same process:

* requests per second and p99 (wrk, one uvicorn worker, PostgreSQL), as ratios of the floor;
* CPU time per request: the server process's user + system time over the run (``/proc``),
  divided by the requests wrk completed;
* database cost per request: 50 requests one after another, counted inside the server
  (``bench/counting.py``: statements, BEGIN/COMMIT/ROLLBACK, pre-pings, pool checkouts);
* bytes on the wire for a first anonymous visit (``/`` and the assets it loads, as a
  browser that accepts brotli gets them);
* the pool under 64 concurrent signed-in requests that each write their session (a
  flash message): errors and p99.

Run with both session stores: the database (default) and Redis (``REDIS_URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench.common import BENCH_DIR, Result, Server, ensure_database, production_env, server, wrk
from bench.profile import USERS, connect, csrf_token, seed_users, sign_in

PAGES = 50
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    result: Result
    cpu_ms: float  # per request


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def measure(running: Server, name: str, path: str, *, duration: str, connections: int, **options: object) -> Measured:
    before = cpu_seconds(running.pid)
    result = wrk(running.url, name, path, duration=duration, connections=connections, **options)  # type: ignore[arg-type]
    spent = cpu_seconds(running.pid) - before
    return Measured(result, 1000 * spent / max(result.requests, 1))


def counters(url: str) -> dict[str, int]:
    connection = connect(url)
    connection.request("GET", "/_bench/counters", headers={"X-Forwarded-Proto": "https"})
    return json.loads(connection.getresponse().read())


def database_cost(url: str, method: str, path: str, headers: dict[str, str], bodies: list[str]) -> dict[str, float]:
    """Average counts per request over ``len(bodies)`` requests (or ``PAGES`` GETs)."""
    counters(url)  # start from zero
    runs = bodies or [None] * PAGES  # type: ignore[list-item]
    connection = connect(url)
    for body in runs:
        connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **headers})
        response = connection.getresponse()
        response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status}")
    counts = counters(url)
    per = {key: value / len(runs) for key, value in counts.items()}
    per["round trips"] = sum(per.get(k, 0) for k in ("statements", "begin", "commit", "rollback", "pings"))
    return per


def first_visit_bytes(url: str) -> tuple[int, int]:
    """(compressed bytes on the wire, uncompressed) for ``/`` and every asset it links."""
    connection = connect(url)
    accept = {"X-Forwarded-Proto": "https", "Accept-Encoding": "br, gzip"}
    connection.request("GET", "/", headers=accept)
    response = connection.getresponse()
    page = response.read()
    wire = len(page) + sum(len(f"{k}: {v}\r\n") for k, v in response.getheaders())
    plain = len(page)
    for asset in re.findall(rb'(?:src|href)="(/static/[^"]+)"', page):
        connection.request("GET", asset.decode(), headers=accept)
        response = connection.getresponse()
        body = response.read()
        wire += len(body) + sum(len(f"{k}: {v}\r\n") for k, v in response.getheaders())
        connection.request("GET", asset.decode(), headers={"X-Forwarded-Proto": "https"})
        plain += len(connection.getresponse().read())
    return wire, plain


def run(store: str, duration: str, connections: int) -> None:
    extra = {"REDIS_URL": "redis://127.0.0.1:6379/15"} if store == "redis" else {}
    with server(production_env(**extra), app="bench.counting:app") as running:
        url = running.url
        token = csrf_token(url)
        with ThreadPoolExecutor(4) as pool:
            sessions = list(pool.map(lambda n: sign_in(url, token, f"bench-profile{n}@example.com"), range(USERS)))
        signed = {"Cookie": f"__Host-csrftoken={token}; __Host-session={sessions[0]}"}
        anonymous = {"Cookie": f"__Host-csrftoken={token}"}
        form = {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
        for path in ("/_bench/floor", "/", "/privacy", "/profile"):
            wrk(url, "warm-up", path, duration="2s", connections=connections, headers=signed)

        def consent_bodies() -> list[str]:
            return [urlencode({"_csrf_token": token, "choice": "reject-all", "next": "/"})] * PAGES

        # Database cost first (the row save's versions then start where wrk expects them:
        # a separate user, so the wrk run's round-robin versions stay right).
        version = saves_user_version(url, token, sessions[-1])
        costs = {
            "GET /": database_cost(url, "GET", "/", anonymous, []),
            "GET /privacy": database_cost(url, "GET", "/privacy", anonymous, []),
            "GET /profile": database_cost(url, "GET", "/profile", signed, []),
            "POST row save (htmx)": database_cost(
                url, "POST", "/profile/edit/name",
                {**form, "Cookie": f"__Host-csrftoken={token}; __Host-session={sessions[-1]}"},
                [urlencode({"_csrf_token": token, "version": version + n, "name": f"Cost {n}"}) for n in range(PAGES)],
            ),
            "POST /consent (htmx)": database_cost(url, "POST", "/consent", {**form, **anonymous}, consent_bodies()),
        }  # fmt: skip

        floor = measure(running, "floor (bare endpoint)", "/_bench/floor", duration=duration, connections=connections)
        pages = [
            measure(running, "GET /", "/", duration=duration, connections=connections, headers=anonymous),
            measure(running, "GET /privacy", "/privacy", duration=duration, connections=connections,
                    headers=anonymous),
            measure(running, "GET /profile", "/profile", duration=duration, connections=connections, headers=signed),
            measure(running, "POST row save (htmx)", "/profile/edit/name", duration=duration,
                    connections=connections, script=BENCH_DIR / "profile_save.lua", args=[token, *sessions[:-1]]),
            measure(running, "POST /consent (htmx)", "/consent", duration=duration, connections=connections,
                    script=BENCH_DIR / "consent.lua", args=[token]),
        ]  # fmt: skip
        pool_p99, pool_errors, pool_requests = pool_under_load(url, token, sessions)
        wire, plain = first_visit_bytes(url)

    print(f"\nRequest path, session store: {store}; 1 worker, PostgreSQL, {connections} connections, {duration} each")
    print(f"{'endpoint':<24} {'req/s':>8} {'ratio':>6} {'p99 ms':>8} {'CPU ms':>7} {'CPU×':>6} {'errors':>7}")
    for m in [floor, *pages]:
        r = m.result
        print(
            f"{r.name:<24} {r.rps:>8.0f} {r.rps / floor.result.rps:>6.3f} {r.p99_ms:>8.2f} {m.cpu_ms:>7.3f} "
            f"{m.cpu_ms / floor.cpu_ms:>6.1f} {r.errors + r.non_2xx_3xx:>7}"
        )
    print(f"\n{'database per request':<24} {'round trips':>11} {'statements':>10} {'BEGIN':>6} {'COMMIT':>6} "
          f"{'ROLLBACK':>8} {'pings':>6} {'conns':>6}")  # fmt: skip
    for name, per in costs.items():
        print(
            f"{name:<24} {per['round trips']:>11.2f} {per.get('statements', 0):>10.2f} {per.get('begin', 0):>6.2f} "
            f"{per.get('commit', 0):>6.2f} {per.get('rollback', 0):>8.2f} {per.get('pings', 0):>6.2f} "
            f"{per.get('connections', 0):>6.2f}"
        )
    print(f"\nPool: {len(sessions)} concurrent signed-in GET /profile that each write their session (a flash"
          f" waits in it): {pool_requests} requests, p99 {pool_p99:.1f} ms, errors {pool_errors}")  # fmt: skip
    print(f"First anonymous visit (/ and its assets): {wire / 1000:.1f} KB on the wire"
          f" ({plain / 1000:.1f} KB uncompressed)")  # fmt: skip


def pool_under_load(url: str, token: str, sessions: list[str], rounds: int = 10) -> tuple[float, int, int]:
    """Every session at once, ``rounds`` times: an unchanged save leaves a flash in the
    session, then the timed ``GET /profile`` pops it, so it must write its session."""

    def client(session: str) -> tuple[list[float], int]:
        headers = {"X-Forwarded-Proto": "https", "Cookie": f"__Host-csrftoken={token}; __Host-session={session}"}
        body = urlencode({"_csrf_token": token, "version": 1, "phone": ""})
        connection = connect(url)
        times, errors = [], 0
        for _ in range(rounds):
            connection.request("POST", "/profile/edit/phone", body=body,
                               headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            saved = connection.getresponse()
            saved.read()
            started = time.perf_counter()
            connection.request("GET", "/profile", headers=headers)
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            errors += saved.status != 303 or response.status != 200
        return times, errors

    with ThreadPoolExecutor(len(sessions)) as pool:
        outcomes = list(pool.map(client, sessions))
    times = sorted(t for spent, _ in outcomes for t in spent)
    return 1000 * times[int(len(times) * 0.99) - 1], sum(errors for _, errors in outcomes), len(times)


def saves_user_version(url: str, token: str, session: str) -> int:
    """The profile version of the user whose saves are counted, read off the edit form."""
    connection = connect(url)
    connection.request("GET", "/profile/edit/name", headers={
        "X-Forwarded-Proto": "https", "Cookie": f"__Host-csrftoken={token}; __Host-session={session}"})  # fmt: skip
    page = connection.getresponse().read().decode()
    return int(re.search(r'name="version" value="(\d+)"', page).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--store", choices=("db", "redis", "both"), default="both")
    args = parser.parse_args()
    ensure_database()
    for store in ("db", "redis") if args.store == "both" else (args.store,):
        asyncio.run(seed_users())
        run(store, args.duration, args.connections)


if __name__ == "__main__":
    main()
