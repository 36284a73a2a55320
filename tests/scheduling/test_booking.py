"""Booking: free times from the database, and a staff member's appointments never overlap,
guaranteed by the database (PostgreSQL's exclusion constraint, SQLite's BEGIN IMMEDIATE),
however many clients race for one time."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.audit.service import Actor
from smartscheduling.scheduling.booking import (
    BookingService,
    NotOfferedError,
    NotPerformedError,
    SlotTakenError,
    booking_days,
)
from smartscheduling.scheduling.models import (
    THE_BUSINESS,
    Appointment,
    AppointmentStatus,
    Business,
    Offering,
    OfferingStaff,
    WorkingHours,
)

BERLIN = ZoneInfo("Europe/Berlin")
#: The tests' "now": Thursday 3 December 2026, 09:00 in Berlin.
NOW = datetime.datetime(2026, 12, 3, 9, tzinfo=BERLIN).astimezone(datetime.UTC)
#: Monday 7 December 2026 in Berlin.
MONDAY = datetime.date(2026, 12, 7)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    local = datetime.datetime.combine(day, datetime.time(hour), tzinfo=BERLIN) + datetime.timedelta(minutes=minute)
    return local.astimezone(datetime.UTC)


async def salon(
    engine: AsyncEngine, make_user, *, staff: int = 1, buffer_after: int = 15
) -> tuple[Offering, list[User]]:
    """The business in Berlin, a 45-minute cut with 15 minutes after it, and its staff
    working 09:00-12:00 and 13:00-17:00 on weekdays."""
    people = [await make_user(role=Role.STAFF, name=f"Stylist {n}") for n in range(staff)]
    async with AsyncSession(engine, expire_on_commit=False) as session:
        business = Business.defaults()
        business.time_zone, business.country, business.subdivision = "Europe/Berlin", "DE", "BE"
        cut = Offering(name="Haircut", duration_minutes=45, price_cents=3800, buffer_after_minutes=buffer_after)
        session.add_all([business, cut])
        await session.flush()
        for person in people:
            session.add(OfferingStaff(offering_id=cut.id, user_id=person.id))
            for weekday in range(5):
                session.add(WorkingHours(user_id=person.id, weekday=weekday, start_minute=540, end_minute=720))
                session.add(WorkingHours(user_id=person.id, weekday=weekday, start_minute=780, end_minute=1020))
        await session.commit()
    return cut, people


async def business_of(session: AsyncSession) -> Business:
    return await session.get_one(Business, THE_BUSINESS)


async def book(
    engine: AsyncEngine, client: User, start: datetime.datetime, staff_id: uuid.UUID | None = None
) -> Appointment:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        service = BookingService(session, domain="testserver.local")
        offering = (await service.bookable())[0]
        return await service.book(
            await business_of(session), offering, client, start,
            staff_id=staff_id, now=NOW, actor=Actor(client.id, "127.0.0.0/24"),
        )  # fmt: skip


async def free_on(engine: AsyncEngine, day: datetime.date) -> list[datetime.datetime]:
    async with AsyncSession(engine) as session:
        service = BookingService(session, domain="testserver.local")
        offering = (await service.bookable())[0]
        staff = await service.performers(offering)
        free = await service.free_times(await business_of(session), offering, staff, [day], now=NOW)
    return [option.start for option in free]


async def test_free_times_follow_the_hours_the_grid_and_the_bookings_with_their_buffers(
    db_engine: AsyncEngine, make_user
) -> None:
    _, [ana] = await salon(db_engine, make_user)
    free = await free_on(db_engine, MONDAY)
    assert free[0] == at(MONDAY, 9)
    assert at(MONDAY, 11, 15) in free  # ends 12:00, the break
    assert at(MONDAY, 11, 30) not in free  # would run into the break
    assert at(MONDAY, 16, 15) == free[-1]
    client = await make_user()
    booked = await book(db_engine, client, at(MONDAY, 10))
    assert (booked.staff_id, booked.status, booked.price_cents) == (ana.id, AppointmentStatus.BOOKED, 3800)
    assert (booked.occupied_from, booked.occupied_until) == (at(MONDAY, 10), at(MONDAY, 11))
    after = await free_on(db_engine, MONDAY)
    # 09:15 would end at 10:00 but its 15 minutes after reach into the booking.
    assert [t for t in after if at(MONDAY, 9) <= t <= at(MONDAY, 11)] == [at(MONDAY, 9), at(MONDAY, 11)]


async def test_a_time_outside_availability_is_refused_with_the_nearest_free_times(
    db_engine: AsyncEngine, make_user
) -> None:
    await salon(db_engine, make_user)
    client = await make_user()
    for wanted in (at(MONDAY, 12, 15), at(MONDAY, 9, 7), at(MONDAY - datetime.timedelta(days=7), 10)):
        with pytest.raises(NotOfferedError) as refused:
            await book(db_engine, client, wanted)
        assert refused.value.nearest, "a refusal suggests other times"
    with pytest.raises(NotOfferedError):  # beyond the 60-day horizon
        await book(db_engine, client, at(MONDAY + datetime.timedelta(days=70), 10))
    with pytest.raises(NotPerformedError):
        await book(db_engine, client, at(MONDAY, 10), staff_id=client.id)
    async with AsyncSession(db_engine) as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0


async def test_a_taken_time_is_a_conflict_and_suggests_the_nearest_free_ones(db_engine: AsyncEngine, make_user) -> None:
    await salon(db_engine, make_user)
    first, second = await make_user(), await make_user()
    await book(db_engine, first, at(MONDAY, 10))
    with pytest.raises(SlotTakenError) as refused:
        await book(db_engine, second, at(MONDAY, 10))
    assert [option.start for option in refused.value.nearest] == [
        at(MONDAY, 9), at(MONDAY, 11), at(MONDAY, 11, 15), at(MONDAY, 13), at(MONDAY, 13, 15), at(MONDAY, 13, 30),
    ]  # fmt: skip


async def test_anyone_books_whoever_is_free(db_engine: AsyncEngine, make_user) -> None:
    _, staff = await salon(db_engine, make_user, staff=2)
    first = await book(db_engine, await make_user(), at(MONDAY, 10))
    second = await book(db_engine, await make_user(), at(MONDAY, 10))
    assert {first.staff_id, second.staff_id} == {person.id for person in staff}
    with pytest.raises(SlotTakenError):
        await book(db_engine, await make_user(), at(MONDAY, 10, 30))


async def test_twenty_clients_racing_for_one_time_get_exactly_one_appointment(
    db_engine: AsyncEngine, make_user
) -> None:
    await salon(db_engine, make_user)
    clients = [await make_user() for _ in range(20)]
    wanted = at(MONDAY, 10)
    # Each books on its own connection; they start together and run at once.
    results = await asyncio.gather(*(book(db_engine, client, wanted) for client in clients), return_exceptions=True)
    won = [result for result in results if isinstance(result, Appointment)]
    lost = [result for result in results if isinstance(result, SlotTakenError)]
    assert (len(won), len(lost)) == (1, 19), [type(result).__name__ for result in results]
    async with AsyncSession(db_engine) as session:
        rows = (await session.scalars(select(Appointment))).all()
    assert [row.id for row in rows] == [won[0].id]


async def test_overlapping_buffers_race_too(db_engine: AsyncEngine, make_user) -> None:
    """Different start times whose buffers overlap are the same race: one wins."""
    await salon(db_engine, make_user)
    clients = [await make_user() for _ in range(6)]
    starts = [at(MONDAY, 10, 15 * n) for n in range(6)]  # 10:00 to 11:15, each 45 + 15 minutes
    results = await asyncio.gather(*(book(db_engine, c, s) for c, s in zip(clients, starts, strict=True)),
                                   return_exceptions=True)  # fmt: skip
    won = sorted(result.starts_at for result in results if isinstance(result, Appointment))
    assert all(isinstance(result, Appointment | SlotTakenError) for result in results), results
    assert won, "somebody gets a time"
    assert all(later - earlier >= datetime.timedelta(hours=1) for earlier, later in itertools.pairwise(won))


async def test_postgresql_itself_refuses_overlapping_appointments(
    backend: str, db_engine: AsyncEngine, make_user
) -> None:
    """The guarantee is the database's: an insert that skips the service's check is refused."""
    if backend != "postgresql":
        pytest.skip("SQLite has no exclusion constraints: its guarantee is the serialized booking (the races above)")
    cut, [ana] = await salon(db_engine, make_user)
    client = await make_user()
    await book(db_engine, client, at(MONDAY, 10))
    async with AsyncSession(db_engine) as session:
        session.add(Appointment(
            client_id=client.id, staff_id=ana.id, offering_id=cut.id, starts_at=at(MONDAY, 10, 30),
            ends_at=at(MONDAY, 11, 15), occupied_from=at(MONDAY, 10, 30), occupied_until=at(MONDAY, 11, 30),
            price_cents=0, currency="EUR",
        ))  # fmt: skip
        with pytest.raises(IntegrityError, match="appointment_no_overlap"):
            await session.commit()
        await session.rollback()
        # A cancelled appointment blocks nothing.
        await session.execute(text("UPDATE appointment SET status = 'cancelled'"))
        session.add(Appointment(
            client_id=client.id, staff_id=ana.id, offering_id=cut.id, starts_at=at(MONDAY, 10, 30),
            ends_at=at(MONDAY, 11, 15), occupied_from=at(MONDAY, 10, 30), occupied_until=at(MONDAY, 11, 30),
            price_cents=0, currency="EUR",
        ))  # fmt: skip
        await session.commit()


def test_the_booking_days_run_from_today_to_the_horizon_in_the_business_zone() -> None:
    business = Business.defaults()
    business.time_zone, business.horizon_days = "Europe/Berlin", 2
    late = datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC)  # 00:30 on the 4th in Berlin
    assert booking_days(business, late) == [datetime.date(2026, 12, 4) + datetime.timedelta(n) for n in range(3)]
