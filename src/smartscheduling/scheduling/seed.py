"""The demo business for development databases: a salon in Berlin, its services, three
staff and their weeks, the demo client's appointments (one past, one to come) and today's
for the day view, so that a newcomer sees a living product."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.accounts.models import NO_PASSWORD, Role, User
from smartscheduling.config import Settings
from smartscheduling.db import utcnow
from smartscheduling.scheduling.models import (
    THE_BUSINESS,
    Appointment,
    AppointmentStatus,
    Business,
    Offering,
    OfferingStaff,
    WorkingHours,
)

DEMO_BUSINESS = {
    "name": "Studio Lumen (demo)",
    "time_zone": "Europe/Berlin",
    "country": "DE",
    "subdivision": "BE",
    "currency": "EUR",
    "phone": "+49 30 5550 1234",
    "email": "hello@studio-lumen.example",
}
#: name, description, minutes, cents, minutes kept free after.
DEMO_OFFERINGS = (
    ("Haircut", "Wash, cut and dry.", 45, 3800, 10),
    ("Colour", "Full colour with a cut.", 120, 9500, 15),
    ("Beard trim", "Shape and trim, hot towel.", 20, 1800, 5),
)
#: The performers' weeks (weekday → intervals in minutes), by e-mail address.
DEMO_WEEKS = {
    "staff@example.com": {day: [(540, 720), (780, 1020)] for day in range(5)},
    "admin@example.com": {day: [(600, 840), (900, 1140)] for day in range(1, 6)},
    "robin@example.com": {day: [(660, 900), (960, 1200)] for day in range(2, 7)},
}
#: A third stylist, who takes appointments but never signs in.
DEMO_STYLIST = {"email": "robin@example.com", "name": "Robin Reyes"}
#: A client known only to staff (booked by phone): no account, no sign-in.
DEMO_WALK_IN = {"name": "Wanda Walk-in", "phone": "+4930901820", "contact_email": "wanda@example.com"}


async def seed_demo_business(session: AsyncSession, settings: Settings) -> list[str]:
    del settings
    if await session.get(Business, THE_BUSINESS) is not None:
        return []
    business = Business.defaults()
    for name, value in DEMO_BUSINESS.items():
        setattr(business, name, value)
    session.add(business)
    if await session.scalar(select(User).where(User.email == DEMO_STYLIST["email"])) is None:
        session.add(User(**DEMO_STYLIST, password_hash=NO_PASSWORD, role=Role.STAFF, email_verified_at=utcnow()))
        await session.flush()
    people = {
        user.email: user
        for user in await session.scalars(select(User).where(User.email.in_([*DEMO_WEEKS, "client@example.com"])))
    }
    offerings = [
        Offering(name=name, description=text, duration_minutes=minutes, price_cents=cents, buffer_after_minutes=after)
        for name, text, minutes, cents, after in DEMO_OFFERINGS
    ]
    session.add_all(offerings)
    await session.flush()
    for email, week in DEMO_WEEKS.items():
        if (person := people.get(email)) is None or person.role not in (Role.STAFF, Role.ADMIN):
            continue
        session.add_all(OfferingStaff(offering_id=offering.id, user_id=person.id) for offering in offerings)
        session.add_all(
            WorkingHours(user_id=person.id, weekday=day, start_minute=start, end_minute=end)
            for day, intervals in week.items()
            for start, end in intervals
        )
    walk_in = User(**DEMO_WALK_IN, email=None, password_hash=NO_PASSWORD, role=Role.CLIENT)
    session.add(walk_in)
    await session.flush()
    client, staff, robin = (
        people.get(email) for email in ("client@example.com", "staff@example.com", DEMO_STYLIST["email"])
    )
    if client is not None and staff is not None and robin is not None:
        today = business.local_date(datetime.datetime.now(datetime.UTC))
        on_duty = staff if today.weekday() < 5 else robin  # Robin works Wednesday to Sunday
        cut, _, trim = offerings
        # (whose, days from today, hour, service, with whom); today's fill the day view
        for person, days, hour, offering, performer in (
            (client, -14, 10, cut, staff), (client, 7, 10, cut, staff), (walk_in, -7, 10, cut, staff),
            (walk_in, 0, 11, cut, on_duty), (client, 0, 16, trim, on_duty),
        ):  # fmt: skip
            day = today + datetime.timedelta(days=days)
            if performer is staff:  # a weekday: Sam works Monday to Friday
                day -= datetime.timedelta(days=max(0, day.weekday() - 4))
            start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=ZoneInfo(business.time_zone))
            end = start + datetime.timedelta(minutes=offering.duration_minutes)
            session.add(
                Appointment(
                    client_id=person.id,
                    staff_id=performer.id,
                    offering_id=offering.id,
                    starts_at=start,
                    ends_at=end,
                    occupied_from=start,
                    occupied_until=end + datetime.timedelta(minutes=offering.buffer_after_minutes),
                    price_cents=offering.price_cents,
                    currency=business.currency,
                    status=AppointmentStatus.COMPLETED if days < 0 else AppointmentStatus.BOOKED,
                )
            )
    await session.commit()
    return []
