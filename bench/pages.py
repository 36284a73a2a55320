"""Public pages against the floor: ``uv run python -m bench.pages [--duration 10s] [--connections 32]``.

Starts the app in production settings (1 uvicorn worker, PostgreSQL, behind a TLS proxy
simulated with ``X-Forwarded-Proto: https``) and measures each page with wrk.
"""

from __future__ import annotations

import argparse

from bench.common import ensure_database, print_table, production_env, server, wrk

PAGES = [("floor (bare endpoint)", "/_bench/floor"), ("home /", "/"), ("privacy /privacy", "/privacy")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    ensure_database()
    with server(production_env()) as running:
        url = running.url
        for _, path in PAGES:  # warm up: imports, template compilation, connection pool
            wrk(url, "warm-up", path, duration="2s", connections=args.connections)
        results = [wrk(url, name, path, duration=args.duration, connections=args.connections) for name, path in PAGES]
    print_table(f"Public pages, 1 worker, {args.connections} connections, {args.duration} each", results, results[0])


if __name__ == "__main__":
    main()
