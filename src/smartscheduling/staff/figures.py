"""The business's figures over the last eight weeks (the 56 whole days before today, in
the business's time zone): appointments per day, per service and month with revenue,
the no-show rate, each staff member's utilization and the busiest hours.

Counted from appointments alone, never from who the client was: anonymizing a client
leaves every figure as it was (the staff console's tests prove it).

- An appointment counts unless it was cancelled.
- Revenue: the price of those that took place or were not marked otherwise (no-shows
  and cancellations bring nothing).
- No-show rate: no-shows over the appointments that count.
- Utilization: the minutes appointments took over the minutes the staff member's usual
  week gave them on those days.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.accounts.models import User
from smartscheduling.scheduling.availability import local_instant
from smartscheduling.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Offering,
    StaffProfile,
    WorkingHours,
)

WEEKS = 8
DAYS = WEEKS * 7


@dataclass(frozen=True, slots=True)
class ServiceMonth:
    month: str  # YYYY-MM
    service: str
    appointments: int
    revenue_cents: int


@dataclass(frozen=True, slots=True)
class Utilization:
    staff: str | None  # None: someone who has left
    booked_minutes: int
    working_minutes: int

    @property
    def ratio(self) -> float:
        return self.booked_minutes / self.working_minutes if self.working_minutes else 0.0


@dataclass(frozen=True, slots=True)
class Figures:
    first_day: datetime.date
    last_day: datetime.date
    per_day: list[tuple[datetime.date, int]]
    per_service_month: list[ServiceMonth]
    revenue_cents: int
    appointments: int
    no_shows: int
    utilization: list[Utilization]
    busiest_hours: list[tuple[int, int]]

    @property
    def no_show_rate(self) -> float:
        return self.no_shows / self.appointments if self.appointments else 0.0


class FiguresService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def figures(self, business: Business, today: datetime.date) -> Figures:
        zone = ZoneInfo(business.time_zone)
        first, last = today - datetime.timedelta(days=DAYS), today - datetime.timedelta(days=1)
        start, end = local_instant(first, 0, zone), local_instant(today, 0, zone)
        rows = (
            await self.session.execute(
                select(
                    Appointment.starts_at,
                    Appointment.ends_at,
                    Appointment.status,
                    Appointment.price_cents,
                    Appointment.staff_id,
                    Offering.name,
                    StaffProfile.name_of(User),
                )
                .join(Offering, Offering.id == Appointment.offering_id)
                .outerjoin(User, User.id == Appointment.staff_id)
                .outerjoin(StaffProfile, StaffProfile.user_id == Appointment.staff_id)
                .where(
                    Appointment.starts_at >= start,
                    Appointment.starts_at < end,
                    Appointment.status != AppointmentStatus.CANCELLED,
                )
            )
        ).all()
        per_day: Counter[datetime.date] = Counter()
        per_hour: Counter[int] = Counter()
        services: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        booked: Counter[uuid.UUID | None] = Counter()
        names: dict[uuid.UUID | None, str | None] = {None: None}
        revenue = no_shows = 0
        for starts_at, ends_at, status, price, staff_id, service, name in rows:
            local = starts_at.astimezone(zone)
            per_day[local.date()] += 1
            per_hour[local.hour] += 1
            counted = services[(f"{local:%Y-%m}", service)]
            counted[0] += 1
            if status is AppointmentStatus.NO_SHOW:
                no_shows += 1
            else:
                counted[1] += price
                revenue += price
            booked[staff_id] += int((ends_at - starts_at).total_seconds() // 60)
            names[staff_id] = name
        days = [first + datetime.timedelta(days=n) for n in range(DAYS)]
        return Figures(
            first_day=first,
            last_day=last,
            per_day=[(day, per_day[day]) for day in days],
            per_service_month=[
                ServiceMonth(month, service, count, cents)
                for (month, service), (count, cents) in sorted(services.items())
            ],
            revenue_cents=revenue,
            appointments=len(rows),
            no_shows=no_shows,
            utilization=await self._utilization(booked, names, days),
            busiest_hours=sorted(per_hour.items()),
        )

    async def _utilization(
        self, booked: Counter[uuid.UUID | None], names: dict[uuid.UUID | None, str | None], days: list[datetime.date]
    ) -> list[Utilization]:
        weekly: Counter[tuple[uuid.UUID, int]] = Counter()
        for user_id, weekday, start, end in await self.session.execute(
            select(WorkingHours.user_id, WorkingHours.weekday, WorkingHours.start_minute, WorkingHours.end_minute)
        ):
            weekly[(user_id, weekday)] += end - start
        weekdays = Counter(day.weekday() for day in days)
        working: Counter[uuid.UUID] = Counter()
        for (user_id, weekday), minutes in weekly.items():
            working[user_id] += minutes * weekdays[weekday]
        if missing := [user_id for user_id in working if user_id not in names]:
            found = await self.session.execute(
                select(User.id, StaffProfile.name_of(User))
                .outerjoin(StaffProfile, StaffProfile.user_id == User.id)
                .where(User.id.in_(missing))
            )
            names |= dict(found.tuples().all())
        people = sorted({*booked, *working}, key=lambda key: (key is None, names.get(key) or "", str(key)))
        return [Utilization(names.get(key), booked[key], working[key] if key else 0) for key in people]
