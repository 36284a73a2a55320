"""Availability, the pure module: properties on random schedules (hypothesis), and worked
examples on the days clocks change in America/New_York and Europe/Berlin."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartscheduling.scheduling.availability import (
    Offering,
    Period,
    Rules,
    Schedule,
    WallInterval,
    anyone,
    free_starts,
)

UTC = datetime.UTC
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [NEW_YORK, BERLIN, ZoneInfo("Australia/Sydney"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]
MINUTES = datetime.timedelta(minutes=1)
NINE_TO_FIVE = {weekday: [WallInterval(9 * 60, 17 * 60)] for weekday in range(7)}


def minutes(n: int) -> datetime.timedelta:
    return n * MINUTES


def local(instant: datetime.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


# --- random schedules --------------------------------------------------------------------


@st.composite
def day_intervals(draw: st.DrawFn) -> list[WallInterval]:
    """Up to three disjoint intervals of one day on quarter hours (gaps are breaks)."""
    marks = sorted(draw(st.sets(st.integers(0, 96), min_size=0, max_size=6)))
    marks = marks[: len(marks) // 2 * 2]
    return [WallInterval(15 * a, 15 * b) for a, b in zip(marks[::2], marks[1::2], strict=True)]


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    zone = draw(st.sampled_from(ZONES))
    # Around the year's changes too: March, October/November, and ordinary weeks.
    first = draw(st.dates(datetime.date(2026, 1, 1), datetime.date(2027, 12, 20)))
    days = [first + datetime.timedelta(days=n) for n in range(draw(st.integers(1, 8)))]
    weekly = {weekday: draw(day_intervals()) for weekday in range(7)}
    extra = {day: draw(day_intervals()) for day in days if draw(st.booleans())}
    off = []
    for _ in range(draw(st.integers(0, 2))):
        day = draw(st.sampled_from(days))
        start = datetime.datetime.combine(day, datetime.time()) + minutes(15 * draw(st.integers(0, 95)))
        off.append((start, start + minutes(15 * draw(st.integers(1, 96)))))
    closed = frozenset(day for day in days if draw(st.integers(0, 5)) == 0)
    offering = Offering(
        duration=minutes(draw(st.sampled_from([15, 30, 45, 60, 90, 120]))),
        buffer_before=minutes(draw(st.sampled_from([0, 0, 5, 10, 15]))),
        buffer_after=minutes(draw(st.sampled_from([0, 0, 5, 15, 30]))),
    )
    rules = Rules(
        zone=zone,
        step=minutes(draw(st.sampled_from([5, 10, 15, 20, 30, 60]))),
        notice=minutes(draw(st.sampled_from([0, 30, 120, 24 * 60]))),
        horizon=datetime.timedelta(days=draw(st.integers(1, 60))),
    )
    start_of_window = datetime.datetime.combine(first, datetime.time(), tzinfo=zone).astimezone(UTC)
    now = start_of_window + minutes(draw(st.integers(-3 * 24 * 60, 4 * 24 * 60)))
    busy = []
    for _ in range(draw(st.integers(0, 6))):
        begins = start_of_window + minutes(5 * draw(st.integers(0, 8 * 24 * 12)))
        busy.append(Period(begins, begins + minutes(draw(st.sampled_from([15, 30, 60, 75, 120])))))
    busy = [p for i, p in enumerate(busy) if not any(p.overlaps(q) for q in busy[:i])]  # the database's rule
    schedule = Schedule(weekly=weekly, extra=extra, time_off=off, busy=busy)
    return {
        "offering": offering,
        "schedule": schedule,
        "rules": rules,
        "now": now,
        "days": days,
        "closed": closed,
    }


def inside_working_hours(start: datetime.datetime, end: datetime.datetime, scenario: dict) -> bool:
    """Judged on the wall clock: the local start and end fall in one interval of the
    start's local date, and no time off touches the appointment."""
    zone, schedule = scenario["rules"].zone, scenario["schedule"]
    wall_start, wall_end = start.astimezone(zone), end.astimezone(zone)
    day = wall_start.date()
    if day in scenario["closed"] or day not in scenario["days"]:
        return False
    start_minute = wall_start.hour * 60 + wall_start.minute
    end_minute = (wall_end.date() - day).days * 24 * 60 + wall_end.hour * 60 + wall_end.minute
    intervals = [*schedule.weekly.get(day.weekday(), ()), *schedule.extra.get(day, ())]
    covered = [False] * (end_minute - start_minute)
    for interval in intervals:
        for minute in range(max(interval.start, start_minute), min(interval.end, end_minute)):
            covered[minute - start_minute] = True
    for off_start, off_end in schedule.time_off:
        off = Period(off_start.replace(tzinfo=zone).astimezone(UTC), off_end.replace(tzinfo=zone).astimezone(UTC))
        if off.overlaps(Period(start, end)):
            return False
    return all(covered)


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_offered_start_keeps_every_rule(scenario: dict) -> None:
    offering, rules, now = scenario["offering"], scenario["rules"], scenario["now"]
    starts = free_starts(
        offering, scenario["schedule"], rules, now=now, days=scenario["days"], closed=scenario["closed"]
    )
    assert starts == sorted(set(starts)), "each start once, in order"
    for start in starts:
        end = start + offering.duration
        occupied = offering.occupies(start)
        assert not any(occupied.overlaps(b) for b in scenario["schedule"].busy), "overlaps an appointment or buffer"
        assert inside_working_hours(start, end, scenario), "outside working hours, on a closed day or in time off"
        wall = start.astimezone(rules.zone)
        step = int(rules.step.total_seconds() // 60)
        assert (wall.hour * 60 + wall.minute) % step == 0, "off the slot grid"
        assert wall.second == 0
        assert now + rules.notice <= start < now + rules.horizon, "notice or horizon broken"


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_a_start_once_booked_is_never_offered_again(scenario: dict, data: st.DataObject) -> None:
    offering, schedule, rules = scenario["offering"], scenario["schedule"], scenario["rules"]
    options = {"now": scenario["now"], "days": scenario["days"], "closed": scenario["closed"]}
    starts = free_starts(offering, schedule, rules, **options)
    if not starts:
        return
    booked = data.draw(st.sampled_from(starts))
    taken = offering.occupies(booked)
    after = free_starts(
        offering,
        Schedule(schedule.weekly, schedule.extra, schedule.time_off, [*schedule.busy, taken]),
        rules,
        **options,
    )
    assert booked not in after
    assert not any(offering.occupies(start).overlaps(taken) for start in after)
    assert set(after) <= set(starts), "booking never frees anything"


@PROPERTY_SETTINGS
@given(scenarios())
def test_anyone_is_the_union_of_everyone_free(scenario: dict) -> None:
    offering, rules = scenario["offering"], scenario["rules"]
    options = {"now": scenario["now"], "days": scenario["days"], "closed": scenario["closed"]}
    other = Schedule(weekly=NINE_TO_FIVE)
    schedules = {"ana": scenario["schedule"], "ben": other}
    merged = anyone(offering, schedules, rules, **options)
    for name, schedule in schedules.items():
        own = free_starts(offering, schedule, rules, **options)
        assert [start for start, who in merged.items() if name in who] == own


# --- worked examples: the days clocks change ---------------------------------------------

HOUR = Offering(duration=datetime.timedelta(hours=1))
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=UTC)


def anytime(zone: ZoneInfo, step: datetime.timedelta) -> Rules:
    """Rules with no notice and a horizon far enough for examples seen from ``LONG_AGO``."""
    return Rules(zone=zone, step=step, notice=datetime.timedelta(0), horizon=datetime.timedelta(days=5000))


def day_of(zone: ZoneInfo, day: datetime.date, offering: Offering = HOUR, **schedule: object) -> list[str]:
    rules = anytime(zone, datetime.timedelta(hours=1))
    weekly = schedule.pop("weekly", NINE_TO_FIVE)
    starts = free_starts(offering, Schedule(weekly=weekly, **schedule), rules, now=LONG_AGO, days=[day])  # type: ignore[arg-type]
    return [local(start, zone) for start in starts]


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        (NEW_YORK, datetime.date(2026, 3, 8)),  # spring forward: 02:00 → 03:00
        (NEW_YORK, datetime.date(2026, 11, 1)),  # fall back: 02:00 → 01:00
        (BERLIN, datetime.date(2026, 3, 29)),  # 02:00 → 03:00
        (BERLIN, datetime.date(2026, 10, 25)),  # 03:00 → 02:00
    ],
)
def test_nine_to_five_stays_nine_to_five_local_on_the_days_clocks_change(zone: ZoneInfo, day: datetime.date) -> None:
    assert day_of(zone, day) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


def test_the_utc_times_shift_by_the_hour_the_clocks_moved() -> None:
    rules = anytime(NEW_YORK, datetime.timedelta(hours=1))
    nine_only = {weekday: [WallInterval(9 * 60, 10 * 60)] for weekday in range(7)}
    before, after = datetime.date(2026, 3, 7), datetime.date(2026, 3, 9)
    starts = free_starts(HOUR, Schedule(weekly=nine_only), rules, now=LONG_AGO, days=[before, after])
    assert starts == [
        datetime.datetime(2026, 3, 7, 14, 0, tzinfo=UTC),  # 09:00 EST (UTC-5)
        datetime.datetime(2026, 3, 9, 13, 0, tzinfo=UTC),  # 09:00 EDT (UTC-4)
    ]


def test_a_time_that_does_not_exist_is_never_offered() -> None:
    night = {6: [WallInterval(0, 5 * 60)]}  # 2026-03-08 is a Sunday
    assert day_of(NEW_YORK, datetime.date(2026, 3, 8), weekly=night) == ["00:00", "01:00", "03:00", "04:00"]
    berlin_night = {6: [WallInterval(0, 5 * 60)]}  # 2026-03-29 is a Sunday
    assert day_of(BERLIN, datetime.date(2026, 3, 29), weekly=berlin_night) == ["00:00", "01:00", "03:00", "04:00"]


def test_a_time_that_happens_twice_is_offered_once() -> None:
    night = {6: [WallInterval(0, 4 * 60)]}  # 2026-11-01 is a Sunday: 01:00-02:00 happens twice
    starts = day_of(NEW_YORK, datetime.date(2026, 11, 1), weekly=night)
    assert starts == ["00:00", "01:00", "02:00", "03:00"]


def test_an_appointment_across_the_missing_hour_lasts_its_real_duration() -> None:
    """01:30 + 90 min on the spring-forward night ends at 04:00 local: outside 00:00–03:30."""
    night = {6: [WallInterval(0, 3 * 60 + 30)]}
    ninety = Offering(duration=datetime.timedelta(minutes=90))
    rules = anytime(NEW_YORK, datetime.timedelta(minutes=30))
    starts = free_starts(ninety, Schedule(weekly=night), rules, now=LONG_AGO, days=[datetime.date(2026, 3, 8)])
    assert [local(s, NEW_YORK) for s in starts] == ["00:00", "00:30", "01:00"]  # 01:00 + 90 min = 03:30 EDT


# --- worked examples: the rules ----------------------------------------------------------

MONDAY = datetime.date(2026, 12, 7)


def test_buffers_keep_appointments_apart() -> None:
    cut = Offering(duration=datetime.timedelta(minutes=30), buffer_before=minutes(15), buffer_after=minutes(15))
    booked = cut.occupies(datetime.datetime(2026, 12, 7, 11, 0, tzinfo=UTC))  # 11:00–11:30, 10:45–11:45 occupied
    rules = anytime(ZoneInfo("UTC"), minutes(15))
    starts = free_starts(cut, Schedule(weekly={0: [WallInterval(10 * 60, 13 * 60)]}, busy=[booked]), rules,
                         now=LONG_AGO, days=[MONDAY])  # fmt: skip
    # 11:45 would occupy 11:30–12:30: its buffer before meets the booked one's buffer after.
    assert [local(s, ZoneInfo("UTC")) for s in starts] == ["10:00", "12:00", "12:15", "12:30"]


def test_breaks_time_off_extra_hours_and_closed_days() -> None:
    rules = anytime(BERLIN, datetime.timedelta(hours=1))
    weekly = {0: [WallInterval(9 * 60, 12 * 60), WallInterval(13 * 60, 15 * 60)]}  # lunch 12–13
    tuesday = MONDAY + datetime.timedelta(days=1)
    schedule = Schedule(
        weekly=weekly,
        extra={tuesday: [WallInterval(18 * 60, 20 * 60)]},
        time_off=[(datetime.datetime(2026, 12, 7, 10, 30), datetime.datetime(2026, 12, 7, 11, 0))],
    )
    starts = free_starts(HOUR, schedule, rules, now=LONG_AGO, days=[MONDAY, tuesday])
    assert [s.astimezone(BERLIN).strftime("%a %H:%M") for s in starts] == [
        "Mon 09:00", "Mon 11:00", "Mon 13:00", "Mon 14:00", "Tue 18:00", "Tue 19:00",
    ]  # fmt: skip
    assert free_starts(HOUR, schedule, rules, now=LONG_AGO, days=[MONDAY], closed=frozenset({MONDAY})) == []


def test_notice_and_horizon() -> None:
    rules = Rules(zone=ZoneInfo("UTC"), step=datetime.timedelta(hours=1), notice=datetime.timedelta(hours=2),
                  horizon=datetime.timedelta(hours=6))  # fmt: skip
    now = datetime.datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    starts = free_starts(HOUR, Schedule(weekly=NINE_TO_FIVE), rules, now=now, days=[MONDAY])
    assert [local(s, ZoneInfo("UTC")) for s in starts] == ["12:00", "13:00", "14:00", "15:00"]


def test_a_wall_interval_must_be_one_forward_range_of_one_day() -> None:
    with pytest.raises(ValueError, match="not a wall-clock interval"):
        WallInterval(17 * 60, 9 * 60)
    with pytest.raises(ValueError, match="not a wall-clock interval"):
        WallInterval(0, 24 * 60 + 15)
