"""Form input of the scheduling pages."""

from __future__ import annotations

import datetime
import itertools
import re
from functools import lru_cache
from typing import Annotated, Any

import holidays
import msgspec
from msgspec import Meta

from smartscheduling.accounts.countries import country_codes
from smartscheduling.accounts.schemas import Email
from smartscheduling.web.choices import check_time_zone

#: Currencies a business is likely to price in (ISO 4217); the list is what the form offers.
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "JPY", "INR")


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, tuple[str, ...]]:
    """Country → the subdivision codes with their own public holidays (``holidays``)."""
    return {
        country: tuple(code for code in codes if re.fullmatch(r"[A-Z0-9-]{1,10}", code))
        for country, codes in holidays.list_supported_countries().items()
    }


def check_business_country(value: str) -> str:
    code = value.upper()
    if code not in country_codes():
        msg = "Choose the country the business is in from the list."
        raise ValueError(msg)
    return code


def check_currency(value: str) -> str:
    code = value.upper()
    if code not in CURRENCIES:
        msg = "Choose a currency from the list."
        raise ValueError(msg)
    return code


def _number(title: str, low: int, high: int, unit: str) -> Meta:
    """A whole number in a range; out of it, or not a number: one sentence that says which."""
    return Meta(title=title, ge=low, le=high, extra={"message": f"Enter {title.lower()} in {unit}, {low} to {high}."})


class BusinessForm(msgspec.Struct, kw_only=True):
    version: Annotated[int, Meta(ge=1, extra={"message": "This form is out of date: reload the page."})]
    name: Annotated[str, Meta(title="Name", max_length=120)]
    time_zone: Annotated[str, Meta(title="Time zone", max_length=64, extra={"clean": check_time_zone})]
    country: Annotated[str, Meta(title="Country", max_length=2, extra={"clean": check_business_country})] | None = None
    subdivision: Annotated[str, Meta(title="Region", max_length=10)] | None = None
    slot_step_minutes: Annotated[int, _number("Time between start times", 5, 60, "minutes")]
    notice_minutes: Annotated[int, _number("Minimum notice", 0, 10080, "minutes")]
    horizon_days: Annotated[int, _number("Booking horizon", 1, 365, "days")]
    cutoff_hours: Annotated[int, _number("Cancellation cut-off", 0, 336, "hours")]
    reminder_hours: Annotated[int, _number("Reminder", 1, 336, "hours")]
    currency: Annotated[str, Meta(title="Currency", max_length=3, extra={"clean": check_currency})]
    phone: Annotated[str, Meta(title="Phone", max_length=40)] | None = None
    email: Email | None = None

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        if isinstance(step := values.get("slot_step_minutes"), int) and step % 5:
            errors["slot_step_minutes"] = "Choose a multiple of 5 minutes."
        country, region = values.get("country"), values.get("subdivision")
        if region:
            region = region.upper()
            values["subdivision"] = region
            if country is None:
                errors["subdivision"] = "Choose the country first: regions belong to a country."
            elif region not in subdivisions().get(country, ()):
                known = ", ".join(subdivisions().get(country, ())) or "none"
                errors["subdivision"] = f"That is not a region with its own public holidays (known: {known})."
        return errors


def price_in_cents(value: str) -> int:
    """``25``, ``25.5``, ``25.50`` or ``25,50`` → 2550."""
    match = re.fullmatch(r"(\d{1,6})(?:[.,](\d{1,2}))?", value.replace(" ", ""))
    if match is None:
        msg = "Enter the price as an amount, like 25 or 25.50."
        raise ValueError(msg)
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def price_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def check_price(value: str) -> str:
    """A form field's ``clean``: the price written the one way (``25.50``)."""
    return price_text(price_in_cents(value))


class OfferingForm(msgspec.Struct, kw_only=True):
    version: Annotated[int, Meta(ge=1, extra={"message": "This form is out of date: reload the page."})] = 1
    name: Annotated[str, Meta(title="Name", max_length=120)]
    description: Annotated[str, Meta(title="Description", max_length=1000, extra={"multiline": True})] = ""
    duration_minutes: Annotated[int, _number("Duration", 5, 480, "minutes")]
    price: Annotated[str, Meta(title="Price", max_length=12, extra={"clean": check_price})]
    buffer_before_minutes: Annotated[int, _number("Time kept free before", 0, 120, "minutes")] = 0
    buffer_after_minutes: Annotated[int, _number("Time kept free after", 0, 120, "minutes")] = 0

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        if isinstance(duration := values.get("duration_minutes"), int) and duration % 5:
            return {"duration_minutes": "Choose a multiple of 5 minutes."}
        return {}

    def columns(self) -> dict[str, Any]:
        """The offering's columns from the form (the price already in cents)."""
        return {
            "name": self.name,
            "description": self.description,
            "duration_minutes": self.duration_minutes,
            "price_cents": price_in_cents(self.price),
            "buffer_before_minutes": self.buffer_before_minutes,
            "buffer_after_minutes": self.buffer_after_minutes,
        }


class ClosedDayForm(msgspec.Struct, kw_only=True):
    day: Annotated[datetime.date, Meta(title="Day")]
    closed: bool = True
    note: Annotated[str, Meta(title="Note", max_length=120)] = ""


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?"
_INTERVAL = re.compile(rf"\s*{_TIME}\s*(?:-|–|—|to)\s*{_TIME}\s*")
HOURS_EXAMPLE = "09:00–12:00, 13:00–17:00"


def wall_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_hours(text: str) -> list[tuple[int, int]]:
    """``09:00–12:00, 13:00–17:00`` → ``[(540, 720), (780, 1020)]``, in order; ``ValueError``
    with a sentence that says what is wrong."""
    intervals = []
    for part in filter(str.strip, re.split(r"[,;]", text)):
        match = _INTERVAL.fullmatch(part)
        if match is None:
            msg = f"Write the hours like {HOURS_EXAMPLE} (“{part.strip()[:20]}” is not)."
            raise ValueError(msg)
        start_h, start_m, end_h, end_m = (int(value or 0) for value in match.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start_m > 59 or end_m > 59 or end > 24 * 60:
            msg = f"There is no such time of day in “{part.strip()}”."
            raise ValueError(msg)
        if end <= start:
            msg = f"Each interval must end after it starts ({wall_time(start)}–{wall_time(end)} does not)."
            raise ValueError(msg)
        intervals.append((start, end))
    intervals.sort()
    for (a_start, a_end), (b_start, b_end) in itertools.pairwise(intervals):
        if b_start < a_end:
            msg = (f"The intervals {wall_time(a_start)}–{wall_time(a_end)} and "
                   f"{wall_time(b_start)}–{wall_time(b_end)} overlap.")  # fmt: skip
            raise ValueError(msg)
    return intervals


def hours_text(intervals: list[tuple[int, int]]) -> str:
    return ", ".join(f"{wall_time(start)}–{wall_time(end)}" for start, end in intervals)


def check_hours(value: str) -> str:
    """A form field's ``clean``: the day's hours written the one way."""
    return hours_text(parse_hours(value))


_Hours = Annotated[str, Meta(max_length=200, extra={"clean": check_hours})]


class WeekForm(msgspec.Struct, kw_only=True):
    """One text field per weekday, named after it; empty for a day off."""

    monday: _Hours = ""
    tuesday: _Hours = ""
    wednesday: _Hours = ""
    thursday: _Hours = ""
    friday: _Hours = ""
    saturday: _Hours = ""
    sunday: _Hours = ""

    def week(self) -> dict[int, list[tuple[int, int]]]:
        """Weekday (0 = Monday) → its intervals."""
        return {weekday: parse_hours(getattr(self, name.lower())) for weekday, name in enumerate(WEEKDAYS)}


def check_one_interval(value: str) -> str:
    """A form field's ``clean``: at most one interval (``13:00–17:00``), written the one way."""
    intervals = parse_hours(value)
    if len(intervals) > 1:
        msg = "Give one interval, like 13:00–17:00 (add another entry for a second one)."
        raise ValueError(msg)
    return hours_text(intervals)


class ExceptionForm(msgspec.Struct, kw_only=True):
    """Time off (whole days ``first_day`` to ``last_day``, or ``hours`` of one day) or
    extra hours on one day."""

    kind: Annotated[str, Meta(title="What", max_length=16)] = "time_off"
    first_day: Annotated[datetime.date, Meta(title="From")]
    last_day: Annotated[datetime.date, Meta(title="To")] | None = None
    hours: Annotated[str, Meta(title="Hours", max_length=40, extra={"clean": check_one_interval})] = ""
    note: Annotated[str, Meta(title="Note", max_length=120)] = ""

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        kind, first, last, hours = (
            values.get("kind"),
            values.get("first_day"),
            values.get("last_day"),
            values.get("hours"),
        )
        if kind not in ("time_off", "extra_hours"):
            errors["kind"] = "Choose time off or extra hours."
        if isinstance(first, datetime.date) and isinstance(last, datetime.date):
            if last < first:
                errors["last_day"] = "The last day cannot come before the first."
            elif hours and last != first:
                errors["hours"] = "Hours are for one day: leave them empty for whole days, or make it one day."
            elif kind == "extra_hours" and last != first:
                errors["last_day"] = "Extra hours are for one day: add one entry per day."
        if kind == "extra_hours" and not hours and "hours" not in errors:
            errors["hours"] = "Give the extra hours, like 18:00–20:00."
        return errors

    def interval(self) -> tuple[int, int] | None:
        found = parse_hours(self.hours)
        return found[0] if found else None


class StaffProfileForm(msgspec.Struct, kw_only=True):
    display_name: Annotated[str, Meta(title="Name shown to clients", max_length=60)]
    bio: Annotated[str, Meta(title="About you", max_length=500, extra={"multiline": True})] = ""
