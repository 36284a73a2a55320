"""Deadlines in business days: worked cases around Christmas, Easter and holidays of one
region only, and properties that hold for any receipt."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartscheduling.business_days import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
IN_BERLIN = BusinessCalendar(BERLIN, "DE", "BE")
IN_MUNICH = BusinessCalendar(BERLIN, "DE", "BY")


def between(calendar: BusinessCalendar, start: datetime.date, end: datetime.date) -> int:
    """How many business days lie after ``start`` up to and including ``end``."""
    days = (end - start).days
    return sum(calendar.is_business_day(start + datetime.timedelta(days=n)) for n in range(1, days + 1))


def local(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("calendar", "received", "counts_from", "due"),
    [
        # Christmas: 24 and 31 December are working days in Germany, 25 and 26 and 1 January are not
        (IN_BERLIN, local(2026, 12, 18, 10), datetime.date(2026, 12, 18), datetime.date(2027, 1, 5)),
        # Epiphany (6 January) is a holiday in Bavaria, not in Berlin
        (IN_BERLIN, local(2026, 12, 22, 10), datetime.date(2026, 12, 22), datetime.date(2027, 1, 7)),
        (IN_MUNICH, local(2026, 12, 22, 10), datetime.date(2026, 12, 22), datetime.date(2027, 1, 8)),
        # Women's Day (8 March) is a holiday in Berlin only
        (IN_BERLIN, local(2027, 3, 1, 10), datetime.date(2027, 3, 1), datetime.date(2027, 3, 16)),
        (IN_MUNICH, local(2027, 3, 1, 10), datetime.date(2027, 3, 1), datetime.date(2027, 3, 15)),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March
        (IN_BERLIN, local(2027, 3, 25, 16, 59), datetime.date(2027, 3, 25), datetime.date(2027, 4, 12)),
        # at the close of business it counts from the next business day: after Easter
        (IN_BERLIN, local(2027, 3, 25, 17), datetime.date(2027, 3, 30), datetime.date(2027, 4, 13)),
        (IN_BERLIN, local(2027, 3, 28, 9), datetime.date(2027, 3, 30), datetime.date(2027, 4, 13)),  # Easter Sunday
        # a Saturday counts from Monday
        (IN_BERLIN, local(2026, 12, 5, 11), datetime.date(2026, 12, 7), datetime.date(2026, 12, 21)),
        # a country the holidays package does not know: weekends only
        (BusinessCalendar(BERLIN, "XX"), local(2026, 12, 22, 10), datetime.date(2026, 12, 22),
         datetime.date(2027, 1, 5)),
        (BusinessCalendar(BERLIN), local(2026, 12, 24, 10), datetime.date(2026, 12, 24), datetime.date(2027, 1, 7)),
    ],
)  # fmt: skip
def test_first_response_due_ten_business_days_after_the_day_it_counts_as_received(
    calendar: BusinessCalendar, received: datetime.datetime, counts_from: datetime.date, due: datetime.date
) -> None:
    assert calendar.counts_from(received) == counts_from
    assert calendar.deadline(received, 10) == due


def test_the_close_of_business_is_the_business_s_own_clock() -> None:
    in_new_york = BusinessCalendar(ZoneInfo("America/New_York"), "US", "NY")
    received = datetime.datetime(2026, 12, 7, 21, 30, tzinfo=datetime.UTC)  # 16:30 in New York, 22:30 in Berlin
    assert in_new_york.counts_from(received) == datetime.date(2026, 12, 7)
    assert IN_BERLIN.counts_from(received) == datetime.date(2026, 12, 8)


def test_the_next_business_day_skips_weekends_and_the_region_s_holidays() -> None:
    assert IN_BERLIN.next_business_day(datetime.date(2026, 12, 24)) == datetime.date(2026, 12, 28)
    assert IN_BERLIN.next_business_day(datetime.date(2027, 3, 5)) == datetime.date(2027, 3, 9)  # Women's Day
    assert IN_MUNICH.next_business_day(datetime.date(2027, 3, 5)) == datetime.date(2027, 3, 8)


def test_a_deadline_counts_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least one"):
        IN_BERLIN.add(datetime.date(2026, 12, 7), 0)


CALENDARS = st.sampled_from([
    IN_BERLIN, IN_MUNICH, BusinessCalendar(ZoneInfo("Europe/London"), "GB", "SCT"),
    BusinessCalendar(ZoneInfo("America/New_York"), "US", "NY"), BusinessCalendar(ZoneInfo("Asia/Dubai"), "AE"),
    BusinessCalendar(ZoneInfo("Pacific/Auckland"), "NZ"),
])  # fmt: skip
RECEIPTS = st.datetimes(
    min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2035, 12, 31), timezones=st.just(datetime.UTC)
)


@given(calendar=CALENDARS, received=RECEIPTS, count=st.integers(1, 30))
def test_a_deadline_is_always_a_business_day(
    calendar: BusinessCalendar, received: datetime.datetime, count: int
) -> None:
    assert calendar.is_business_day(calendar.counts_from(received))
    assert calendar.is_business_day(calendar.deadline(received, count))


@given(calendar=CALENDARS, received=RECEIPTS, count=st.integers(1, 30))
def test_exactly_the_count_of_business_days_separates_receipt_and_deadline(
    calendar: BusinessCalendar, received: datetime.datetime, count: int
) -> None:
    start = calendar.counts_from(received)
    assert start >= received.astimezone(calendar.zone).date()
    assert between(calendar, start, calendar.deadline(received, count)) == count
