"""Deadlines counted in business days: Monday to Friday (the country's weekend, from the
``holidays`` package), less the public holidays of the business's country and region.

The rule, the same for every clock that counts business days (complaints' first
response, data-subject requests' reports): something received on a business day before
the close of business (17:00 in the business's time zone) counts as received that day;
received later, on a weekend or on a public holiday, it counts as received on the next
business day. A deadline of *n* business days is the *n*-th business day after the day it
counts as received: exactly *n* business days lie after that day up to and including the
deadline.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays

#: When a business day's receipts stop counting as that day's.
CLOSE_OF_BUSINESS = datetime.time(17)


@functools.lru_cache(maxsize=32)
def _public_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    """The country's (and region's) holidays, every year as it is asked for (built once
    per process); a country the package does not know has none but a Saturday-and-Sunday
    weekend."""
    if not country:
        return holidays.HolidayBase()
    try:
        return holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        return holidays.HolidayBase()


def public_holidays(
    country: str | None, subdivision: str | None, start: datetime.date, end: datetime.date
) -> dict[datetime.date, str]:
    """The public holidays of ``country`` and its region ``subdivision``, ``start`` to ``end``, by day."""
    calendar = _public_holidays((country or "").upper(), (subdivision or "").upper())
    for year in range(start.year, end.year + 1):
        calendar.get(datetime.date(year, 1, 1))  # the package adds a year's holidays when first asked for one
    return {day: str(name) for day, name in sorted(calendar.items()) if start <= day <= end}


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """The business days of a business: its time zone, its country and region."""

    zone: ZoneInfo
    country: str | None = None
    subdivision: str | None = None

    @property
    def _days(self) -> holidays.HolidayBase:
        return _public_holidays((self.country or "").upper(), (self.subdivision or "").upper())

    def is_business_day(self, day: datetime.date) -> bool:
        return self._days.is_working_day(day)

    def next_business_day(self, day: datetime.date) -> datetime.date:
        """The first business day after ``day``."""
        return self._days.get_nth_working_day(day, 1)

    def counts_from(self, received: datetime.datetime) -> datetime.date:
        """The business day on which something received at ``received`` counts as received."""
        local = received.astimezone(self.zone)
        if self.is_business_day(local.date()) and local.time() < CLOSE_OF_BUSINESS:
            return local.date()
        return self.next_business_day(local.date())

    def add(self, day: datetime.date, business_days: int) -> datetime.date:
        """The ``business_days``-th business day after ``day`` (``day`` itself not counted)."""
        if business_days < 1:
            raise ValueError("count at least one business day")
        return self._days.get_nth_working_day(day, business_days)

    def deadline(self, received: datetime.datetime, business_days: int) -> datetime.date:
        """The last day of a deadline of ``business_days`` for something received at ``received``."""
        return self.add(self.counts_from(received), business_days)
