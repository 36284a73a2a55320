"""Free start times: pure computation, no I/O.

Wall-clock rules (working hours, time off, closed days, the slot grid) are in the
business's time zone; appointments and the answers are instants in UTC. On the days
clocks change, a 09:00–17:00 day stays 09:00–17:00 local: it is an hour shorter or longer
in real time, wall-clock times that do not exist that day are never offered, and a time
that happens twice is offered once (its first occurrence).

What a start time must satisfy, for an offering of ``duration`` with buffers:

* the appointment itself, ``[start, start + duration)``, lies inside one working interval
  of its local date (weekly hours, or the extra hours of that date; nothing on a closed
  day), outside every time off;
* its occupied range, ``[start - buffer_before, start + duration + buffer_after)``, does
  not overlap the occupied range of any appointment of the staff member (each with its
  own buffers): the same rule the database enforces when the booking is written;
* it sits on the slot grid (a whole number of steps after local midnight), at least
  ``notice`` from now and less than ``horizon`` ahead.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = datetime.UTC
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class WallInterval:
    """Local wall-clock minutes after midnight, ``start`` inclusive, ``end`` exclusive
    (``end`` may be 1440: midnight at the end of the day)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            msg = f"not a wall-clock interval of one day: {self.start}-{self.end}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Period:
    """An instant range in UTC, ``[start, end)``."""

    start: datetime.datetime
    end: datetime.datetime

    def overlaps(self, other: Period) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Rules:
    """The business's booking rules."""

    zone: ZoneInfo
    step: datetime.timedelta = datetime.timedelta(minutes=15)
    notice: datetime.timedelta = datetime.timedelta(hours=2)
    horizon: datetime.timedelta = datetime.timedelta(days=60)


@dataclass(frozen=True, slots=True)
class Offering:
    duration: datetime.timedelta
    buffer_before: datetime.timedelta = datetime.timedelta(0)
    buffer_after: datetime.timedelta = datetime.timedelta(0)

    def occupies(self, start: datetime.datetime) -> Period:
        return Period(start - self.buffer_before, start + self.duration + self.buffer_after)


@dataclass(frozen=True, slots=True)
class Schedule:
    """One staff member's time: weekly hours (weekday 0 = Monday → intervals; gaps are
    breaks), extra hours on given dates, time off as local wall-clock ranges, and the
    occupied ranges (buffers included) of their active appointments."""

    weekly: Mapping[int, Sequence[WallInterval]]
    extra: Mapping[datetime.date, Sequence[WallInterval]] = field(default_factory=dict)
    time_off: Sequence[tuple[datetime.datetime, datetime.datetime]] = ()
    busy: Sequence[Period] = ()


def local_instant(day: datetime.date, minute: int, zone: ZoneInfo) -> datetime.datetime:
    """The UTC instant of a wall-clock minute of ``day`` (1440: the next midnight). A time
    that happens twice is its first occurrence; one that does not exist is read with the
    offset before the change, as Python does (fold=0)."""
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(minutes=minute)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def exists(instant: datetime.datetime, day: datetime.date, minute: int, zone: ZoneInfo) -> bool:
    """Whether wall-clock ``minute`` of ``day`` really happens (and is ``instant``)."""
    naive = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(minutes=minute)
    return instant.astimezone(zone).replace(tzinfo=None) == naive


def working_periods(
    schedule: Schedule, day: datetime.date, zone: ZoneInfo, closed: frozenset[datetime.date]
) -> list[Period]:
    """The staff member's working time on local ``day`` as instants, time off removed."""
    if day in closed:
        return []
    intervals = [*schedule.weekly.get(day.weekday(), ()), *schedule.extra.get(day, ())]
    periods = [Period(local_instant(day, i.start, zone), local_instant(day, i.end, zone)) for i in intervals]
    off = [
        Period(start.replace(tzinfo=zone).astimezone(UTC), end.replace(tzinfo=zone).astimezone(UTC))
        for start, end in schedule.time_off
    ]
    return _subtract(_merge(periods), off)


def _merge(periods: Iterable[Period]) -> list[Period]:
    merged: list[Period] = []
    for period in sorted(periods, key=lambda p: p.start):
        if merged and period.start <= merged[-1].end:
            merged[-1] = Period(merged[-1].start, max(merged[-1].end, period.end))
        elif period.start < period.end:
            merged.append(period)
    return merged


def _subtract(periods: list[Period], holes: Sequence[Period]) -> list[Period]:
    for hole in holes:
        kept: list[Period] = []
        for period in periods:
            if not period.overlaps(hole):
                kept.append(period)
                continue
            if period.start < hole.start:
                kept.append(Period(period.start, hole.start))
            if hole.end < period.end:
                kept.append(Period(hole.end, period.end))
        periods = kept
    return periods


class _Busy:
    """A staff member's occupied time as disjoint ranges in order (overlapping or touching
    ones merged: a start is blocked by the union exactly when it is blocked by one)."""

    def __init__(self, periods: Sequence[Period]) -> None:
        self.periods = _merge(periods)
        self.ends = [p.end for p in self.periods]

    def free(self, offering: Offering, starts: Sequence[datetime.datetime]) -> Iterable[datetime.datetime]:
        """Those of ``starts`` (in order) whose occupied range overlaps nothing: ``start``
        is blocked by ``b`` when ``b.start - duration - after < start < b.end + before``."""
        before, after = offering.buffer_before, offering.duration + offering.buffer_after
        periods, index = self.periods, bisect.bisect_right(self.ends, starts[0] - before) if starts else 0
        for start in starts:
            while index < len(periods) and periods[index].end + before <= start:
                index += 1
            if index == len(periods) or periods[index].start - after >= start:
                yield start


def free_starts(
    offering: Offering,
    schedule: Schedule,
    rules: Rules,
    *,
    now: datetime.datetime,
    days: Iterable[datetime.date],
    closed: frozenset[datetime.date] = frozenset(),
) -> list[datetime.datetime]:
    """Every start time (UTC) the staff member can take on the local ``days``, in order."""
    step = int(rules.step.total_seconds() // 60)
    earliest, latest = now + rules.notice, now + rules.horizon
    busy = _Busy(schedule.busy)
    found: list[datetime.datetime] = []
    for day in days:
        grid = day_grid(day, step, rules.zone)
        for period in working_periods(schedule, day, rules.zone, closed):
            first = bisect.bisect_left(grid, max(period.start, earliest))
            last = bisect.bisect_right(grid, min(period.end - offering.duration, latest - _TICK))
            found.extend(busy.free(offering, grid[first:last]))
    return found


#: The smallest step of time: ``start < latest`` as ``start <= latest - _TICK``.
_TICK = datetime.timedelta(microseconds=1)


@lru_cache(maxsize=4096)
def day_grid(day: datetime.date, step: int, zone: ZoneInfo) -> list[datetime.datetime]:
    """The instants of the grid's wall-clock minutes of ``day`` that really happen, in
    order (worked out once per day, step and zone: every staff member shares it)."""
    grid = []
    for minute in range(0, MINUTES_PER_DAY, step):
        instant = local_instant(day, minute, zone)
        if exists(instant, day, minute, zone):
            grid.append(instant)
    return sorted(grid)


def anyone(
    offering: Offering,
    schedules: Mapping[Hashable, Schedule],
    rules: Rules,
    *,
    now: datetime.datetime,
    days: Sequence[datetime.date],
    closed: frozenset[datetime.date] = frozenset(),
) -> dict[datetime.datetime, list[Hashable]]:
    """Start time → the staff members (in the order given) free then, for "anyone"."""
    free: dict[datetime.datetime, list[Hashable]] = {}
    for staff, schedule in schedules.items():
        for start in free_starts(offering, schedule, rules, now=now, days=days, closed=closed):
            free.setdefault(start, []).append(staff)
    return dict(sorted(free.items()))
