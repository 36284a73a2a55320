"""Availability, the pure module, at the size the scheduling issue names:
``uv run python -m bench.availability [--staff 200] [--runs 30]``.

200 staff members working 09:00-17:00 with a lunch break, six days a week, in
Europe/Berlin, each with the appointments of a busy salon (about 14 a day, as 2,000,000
over two years would give them): the free start times of one 45-minute service with
buffers for "anyone" over 14 days. The database query that will feed it reads only the
14 days' appointments; this measures what the computation adds: p50 and p95 of ``runs``.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import time
from zoneinfo import ZoneInfo

from smartscheduling.scheduling.availability import Offering, Period, Rules, Schedule, WallInterval, anyone

ZONE = ZoneInfo("Europe/Berlin")
DAYS = 14
PER_DAY = 14


def schedules(staff: int, first: datetime.date, seed: int = 7) -> dict[int, Schedule]:
    rng = random.Random(seed)  # noqa: S311 (made-up appointments, not secrets)
    week = {day: [WallInterval(9 * 60, 13 * 60), WallInterval(14 * 60, 17 * 60)] for day in range(6)}
    found = {}
    for member in range(staff):
        busy: list[Period] = []
        for offset in range(DAYS):
            day = first + datetime.timedelta(days=offset)
            starts = sorted(rng.sample(range(9 * 4, 17 * 4 - 2), PER_DAY))  # quarter hours
            for quarter in starts:
                start = datetime.datetime.combine(day, datetime.time(), tzinfo=ZONE).astimezone(datetime.UTC)
                period = Period(
                    start + datetime.timedelta(minutes=15 * quarter),
                    start + datetime.timedelta(minutes=15 * quarter + 30),
                )
                if not busy or not busy[-1].overlaps(period):
                    busy.append(period)
        found[member] = Schedule(weekly=week, busy=busy)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    first = datetime.date(2027, 3, 22)  # the fortnight of Berlin's change to summer time
    everyone = schedules(args.staff, first)
    offering = Offering(datetime.timedelta(minutes=45), datetime.timedelta(minutes=5), datetime.timedelta(minutes=10))
    rules = Rules(zone=ZONE, step=datetime.timedelta(minutes=15), notice=datetime.timedelta(hours=2))
    now = datetime.datetime.combine(first, datetime.time(8), tzinfo=ZONE).astimezone(datetime.UTC)
    days = [first + datetime.timedelta(days=n) for n in range(DAYS)]
    timings, offered = [], 0
    for _ in range(args.runs):
        started = time.perf_counter()
        offered = len(anyone(offering, everyone, rules, now=now, days=days))
        timings.append(1000 * (time.perf_counter() - started))
    timings.sort()
    busy = sum(len(s.busy) for s in everyone.values())
    print(f"availability for anyone: {args.staff} staff, {busy} appointments in the window, {DAYS} days, "
          f"{offered} start times offered")  # fmt: skip
    print(f"p50 {statistics.median(timings):.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms "
          f"({args.runs} runs)")  # fmt: skip


if __name__ == "__main__":
    main()
