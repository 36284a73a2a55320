"""Cookie consent under load: ``uv run python -m bench.consent [--duration 10s]``.

* ``/`` for a first-time visitor (the banner rendered in) and for one who decided,
* ``POST /consent`` as htmx sends it (validate, append a record, sign the cookie, render
  the replacement partial),

each against the floor endpoint in the same process; and the bytes the banner adds.
"""

from __future__ import annotations

import argparse
import http.client
from urllib.parse import urlencode, urlsplit

from bench.common import BENCH_DIR, ensure_database, print_table, production_env, server, wrk


def fetch(url: str, method: str, path: str, headers: dict[str, str], body: str | None = None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **headers})
    response = connection.getresponse()
    return response, response.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    ensure_database()
    with server(production_env()) as running:
        url = running.url
        first, with_banner = fetch(url, "GET", "/", {})
        set_cookie = first.getheader("set-cookie") or ""
        token = set_cookie.split(";", 1)[0].split("=", 1)[1]
        csrf = f"__Host-csrftoken={token}"
        decided, _ = fetch(
            url, "POST", "/consent", {"Cookie": csrf, "Content-Type": "application/x-www-form-urlencoded"},
            urlencode({"_csrf_token": token, "choice": "reject-all", "next": "/"}),
        )  # fmt: skip
        consent = next(
            value.split(";", 1)[0] for key, value in decided.getheaders()
            if key.lower() == "set-cookie" and value.startswith("__Host-consent=")
        )  # fmt: skip
        _, without_banner = fetch(url, "GET", "/", {"Cookie": f"{csrf}; {consent}"})
        n = args.connections
        for path in ("/_bench/floor", "/"):
            wrk(url, "warm-up", path, duration="2s", connections=n)
        results = [
            wrk(url, "floor (bare endpoint)", "/_bench/floor", duration=args.duration, connections=n),
            wrk(url, "GET / with the banner", "/", duration=args.duration, connections=n, headers={"Cookie": csrf}),
            wrk(url, "GET / after deciding", "/", duration=args.duration, connections=n,
                headers={"Cookie": f"{csrf}; {consent}"}),
            wrk(url, "POST /consent (htmx)", "/consent", duration=args.duration, connections=n,
                script=BENCH_DIR / "consent.lua", args=[token]),
        ]  # fmt: skip
    print_table(f"Cookie consent, 1 worker, PostgreSQL, {n} connections, {args.duration} each", results, results[0])
    print(
        f"\nbytes of / : {len(with_banner)} with the banner, {len(without_banner)} without "
        f"(the banner adds {len(with_banner) - len(without_banner)} bytes, before compression)"
    )


if __name__ == "__main__":
    main()
