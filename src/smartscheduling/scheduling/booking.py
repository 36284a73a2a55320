"""Booking: the free times of an offering (the pure availability module, fed from the
database) and appointments booked, moved and cancelled so that a staff member's never
overlap.

The guarantee is the database's, not a check before the insert: on PostgreSQL the
``appointment_no_overlap`` exclusion constraint refuses the second of two overlapping
bookings, whatever order they commit in; on SQLite the booking takes the write lock
first (``BEGIN IMMEDIATE``), so its check and its insert are one step no other booking
can come between. Either way the loser is told the nearest free times.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import exists, inspect, select, text, type_coerce, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import NullType

from smartscheduling.accounts.models import User
from smartscheduling.audit.service import Actor, record
from smartscheduling.mail.outbox import enqueue
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.scheduling import availability
from smartscheduling.scheduling.calendar import appointment_calendar
from smartscheduling.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Business,
    ExceptionKind,
    Offering,
    OfferingStaff,
    StaffException,
    StaffProfile,
    WorkingHours,
)
from smartscheduling.scheduling.services import ClosedDayService, ScheduleService, can_perform

#: How many free times a refused booking suggests instead.
NEAREST = 6
#: How many days after the wanted one those suggestions may come from.
NEAREST_DAYS = 7


class NoLongerOfferedError(RefusedError):
    sentence = "This service is no longer offered. Choose another one."


class NotPerformedError(RefusedError):
    sentence = "This staff member does not perform this service. Choose someone from the list."


@dataclass(frozen=True, slots=True)
class FreeTime:
    start: datetime.datetime
    #: Who is free then, in the order the service lists them.
    staff: tuple[uuid.UUID, ...]


class UnavailableTimeError(RefusedError):
    """The time asked for cannot be booked; ``nearest``: free times close to it."""

    def __init__(self, nearest: Sequence[FreeTime] = ()) -> None:
        super().__init__()
        self.nearest = list(nearest)


class SlotTakenError(UnavailableTimeError):
    kind = Refusal.CONFLICT
    sentence = "Someone else booked this time a moment ago. Choose one of the nearest free times."


class NotOfferedError(UnavailableTimeError):
    sentence = (
        "This time is not offered: it is outside the opening hours, too soon, too far ahead or on a closed day. "
        "Choose one of the free times."
    )


class CutoffPassedError(RefusedError):
    """Too close to the appointment to change it online; the business is to be called."""

    kind = Refusal.CONFLICT

    def __init__(self, business: Business) -> None:
        reach = " or ".join(filter(None, (business.phone, business.email)))
        sentence = f"Appointments can be changed online until {business.cutoff_hours} hours before they start. " + (
            f"Please contact {business.name}: {reach}." if reach else f"Please contact {business.name}."
        )
        super().__init__(sentence)


class StaleAppointmentError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "This appointment changed after you opened this page (in another tab?). Here it is as it is now."


class AlreadyCancelledError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "This appointment is already cancelled."


@dataclass(frozen=True, slots=True)
class StaffCard:
    """A staff member as clients see them."""

    name: str
    bio: str


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment as its client sees it."""

    appointment: Appointment
    offering: str
    staff: str | None


def wall_range(row: StaffException) -> tuple[datetime.datetime, datetime.datetime]:
    """Time off as the local wall-clock range availability takes: whole days from the
    first day's midnight to the midnight after the last, or the hours of one day."""
    first = datetime.datetime.combine(row.first_day, datetime.time())
    if row.start_minute is None or row.end_minute is None:
        return first, datetime.datetime.combine(row.last_day + datetime.timedelta(days=1), datetime.time())
    return first + datetime.timedelta(minutes=row.start_minute), first + datetime.timedelta(minutes=row.end_minute)


def rules_of(business: Business) -> availability.Rules:
    return availability.Rules(
        zone=ZoneInfo(business.time_zone),
        step=datetime.timedelta(minutes=business.slot_step_minutes),
        notice=datetime.timedelta(minutes=business.notice_minutes),
        horizon=datetime.timedelta(days=business.horizon_days),
    )


def shape_of(offering: Offering) -> availability.Offering:
    return availability.Offering(
        duration=datetime.timedelta(minutes=offering.duration_minutes),
        buffer_before=datetime.timedelta(minutes=offering.buffer_before_minutes),
        buffer_after=datetime.timedelta(minutes=offering.buffer_after_minutes),
    )


def booking_days(business: Business, now: datetime.datetime) -> list[datetime.date]:
    """Every local day a booking can fall on: today to the end of the horizon."""
    first = business.local_date(now)
    last = business.local_date(now + datetime.timedelta(days=business.horizon_days))
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


#: The longest time an appointment can occupy: an offering's longest duration (480
#: minutes) and buffers (120 each), as the offering table's CHECK constraints allow.
LONGEST_OCCUPIED = datetime.timedelta(minutes=480 + 2 * 120)

#: PostgreSQL's answers to the second of two overlapping bookings: the exclusion
#: constraint refused it, or the two waited on each other and the server ended this one.
LOST_RACE = frozenset({"23P01", "40P01"})


def lost_race(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in LOST_RACE


class BookingService:
    """Free times, booking and cancelling. Each public method that changes something is
    one unit of work with its audit event and its e-mail to the client."""

    def __init__(self, session: AsyncSession, *, domain: str, notice: bool = True) -> None:
        self.session = session
        #: The site's host name: calendar files' UIDs are unique under it.
        self.domain = domain
        #: ``False`` at the front desk: staff may book sooner than the minimum notice
        #: (never an overlap, never in the past).
        self.notice = notice

    def at_desk(self) -> BookingService:
        """The same bookings as staff make them: the minimum notice does not apply."""
        return BookingService(self.session, domain=self.domain, notice=False)

    def rules(self, business: Business) -> availability.Rules:
        rules = rules_of(business)
        return rules if self.notice else replace(rules, notice=datetime.timedelta(0))

    # --- what can be booked -------------------------------------------------------------

    async def bookable(self) -> Sequence[Offering]:
        """Offerings clients can book: not archived, performed by someone, by name."""
        performed = exists().where(OfferingStaff.offering_id == Offering.id, _is_performer(OfferingStaff.user_id))
        statement = select(Offering).where(Offering.archived_at.is_(None), performed).order_by(Offering.name)
        return (await self.session.scalars(statement)).all()

    async def offering(self, offering_id: uuid.UUID) -> Offering:
        offering = await self.session.get(Offering, offering_id)
        if offering is None or offering.archived_at is not None:
            raise NoLongerOfferedError
        return offering

    async def any_offering(self, offering_id: uuid.UUID) -> Offering:
        """An offering, archived or not (an appointment made for it can still be moved)."""
        return await self.session.get_one(Offering, offering_id)

    async def performers(self, offering: Offering) -> Sequence[User]:
        """Who performs ``offering`` and can take appointments, by name."""
        statement = (
            select(User)
            .join(OfferingStaff, OfferingStaff.user_id == User.id)
            .where(OfferingStaff.offering_id == offering.id, _is_performer(User.id))
            .order_by(User.name, User.id)
        )
        return (await self.session.scalars(statement)).all()

    async def shown(self, staff: Sequence[User]) -> dict[uuid.UUID, StaffCard]:
        """How each staff member appears to clients: their profile, else the account's name."""
        profiles = await ScheduleService(self.session).profiles([person.id for person in staff])
        return {
            person.id: StaffCard(profiles[person.id].display_name, profiles[person.id].bio)
            if person.id in profiles
            else StaffCard(person.name, "")
            for person in staff
        }

    async def candidates(self, offering: Offering, staff_id: uuid.UUID | None) -> Sequence[User]:
        """``staff_id`` as the one to book with (``None``: everyone who performs it)."""
        performers = await self.performers(offering)
        if staff_id is None:
            return performers
        chosen = [person for person in performers if person.id == staff_id]
        if not chosen:
            raise NotPerformedError
        return chosen

    async def free_times(
        self,
        business: Business,
        offering: Offering,
        staff: Sequence[User],
        days: Sequence[datetime.date],
        *,
        now: datetime.datetime,
        ignoring: uuid.UUID | None = None,
        appointments: bool = True,
    ) -> list[FreeTime]:
        """The free start times on ``days`` (local, in order), and who is free at each.
        ``ignoring``: an appointment that blocks nothing (the one being moved);
        ``appointments=False``: as if nobody had booked anything."""
        if not staff or not days:
            return []
        ids = [person.id for person in staff]
        zone = ZoneInfo(business.time_zone)
        weekly: dict[uuid.UUID, dict[int, list[availability.WallInterval]]] = {person: {} for person in ids}
        hours = select(WorkingHours).where(WorkingHours.user_id.in_(ids))
        for row in await self.session.scalars(hours):
            weekly[row.user_id].setdefault(row.weekday, []).append(
                availability.WallInterval(row.start_minute, row.end_minute)
            )
        busy: dict[uuid.UUID, list[availability.Period]] = {person: [] for person in ids}
        if appointments:
            start = availability.local_instant(days[0], 0, zone) - datetime.timedelta(days=1)
            end = availability.local_instant(days[-1], availability.MINUTES_PER_DAY, zone) + datetime.timedelta(days=1)
            # The staff id as the driver gives it (a UUID from asyncpg, 16 bytes from SQLite):
            # converting tens of thousands of them through the column type costs more than the query.
            raw_staff = type_coerce(Appointment.staff_id, NullType())
            booked = select(raw_staff, Appointment.occupied_from, Appointment.occupied_until).where(
                Appointment.staff_id.in_(ids),
                Appointment.status != AppointmentStatus.CANCELLED,
                Appointment.occupied_until > start,
                Appointment.occupied_from < end,
                # Not needed for the answer, but it bounds the index range scanned (staff_id,
                # occupied_from) to the days asked for instead of everything before them.
                Appointment.occupied_from > start - LONGEST_OCCUPIED,
            )
            if ignoring is not None:
                booked = booked.where(Appointment.id != ignoring)
            for staff_id, occupied_from, occupied_until in await self.session.execute(booked):
                key = staff_id if isinstance(staff_id, uuid.UUID) else uuid.UUID(bytes=staff_id)
                busy[key].append(availability.Period(occupied_from, occupied_until))
        closed = await ClosedDayService(self.session).closed_between(business, days[0], days[-1])
        extra: dict[uuid.UUID, dict[datetime.date, list[availability.WallInterval]]] = {person: {} for person in ids}
        time_off: dict[uuid.UUID, list[tuple[datetime.datetime, datetime.datetime]]] = {person: [] for person in ids}
        for row in await ScheduleService(self.session).exceptions_between(ids, days[0], days[-1]):
            if row.kind is ExceptionKind.EXTRA_HOURS and row.start_minute is not None and row.end_minute is not None:
                interval = availability.WallInterval(row.start_minute, row.end_minute)
                extra[row.user_id].setdefault(row.first_day, []).append(interval)
            elif row.kind is ExceptionKind.TIME_OFF:
                time_off[row.user_id].append(wall_range(row))
        schedules = {
            person: availability.Schedule(
                weekly=weekly[person], extra=extra[person], time_off=time_off[person], busy=busy[person]
            )
            for person in ids
        }
        found = availability.anyone(
            shape_of(offering), schedules, self.rules(business), now=now, days=days, closed=closed
        )
        return [FreeTime(start, tuple(free)) for start, free in found.items()]  # type: ignore[arg-type]

    async def nearest(
        self,
        business: Business,
        offering: Offering,
        staff: Sequence[User],
        wanted: datetime.datetime,
        *,
        now: datetime.datetime,
        ignoring: uuid.UUID | None = None,
    ) -> list[FreeTime]:
        """The free times closest to ``wanted`` (that day or the week after), in order."""
        first = business.local_date(wanted)
        days = [day for day in booking_days(business, now) if first <= day <= first + datetime.timedelta(NEAREST_DAYS)]
        free = await self.free_times(business, offering, staff, days, now=now, ignoring=ignoring)
        closest = sorted(free, key=lambda option: abs(option.start - wanted))[:NEAREST]
        return sorted(closest, key=lambda option: option.start)

    # --- booking ------------------------------------------------------------------------

    async def _serialize(self) -> None:
        """SQLite: take the database's write lock now, before the check, so that no other
        booking runs between this one's check and its insert. (PostgreSQL needs nothing:
        its exclusion constraint refuses an overlap whatever ran in between.)"""
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(text("BEGIN IMMEDIATE"))

    async def check(
        self,
        business: Business,
        offering: Offering,
        staff: Sequence[User],
        wanted: datetime.datetime,
        *,
        now: datetime.datetime,
        ignoring: uuid.UUID | None = None,
    ) -> UnavailableTimeError | None:
        """``None`` while ``wanted`` is free (a confirm page checks again); else why not."""
        day = [business.local_date(wanted)]
        free = await self.free_times(business, offering, staff, day, now=now, ignoring=ignoring)
        if any(option.start == wanted for option in free):
            return None
        return await self.unavailable(business, offering, staff, wanted, now=now, ignoring=ignoring)

    async def unavailable(
        self,
        business: Business,
        offering: Offering,
        staff: Sequence[User],
        wanted: datetime.datetime,
        *,
        now: datetime.datetime,
        ignoring: uuid.UUID | None = None,
    ) -> UnavailableTimeError:
        """Why ``wanted`` cannot be had (taken, or never offered), with the nearest free times."""
        day = [business.local_date(wanted)]
        unbooked = await self.free_times(business, offering, staff, day, now=now, appointments=False)
        taken = any(option.start == wanted for option in unbooked)
        nearest = await self.nearest(business, offering, staff, wanted, now=now, ignoring=ignoring)
        return SlotTakenError(nearest) if taken else NotOfferedError(nearest)

    async def _roll_back(self, *rows: object) -> None:
        """End the transaction (and SQLite's lock), then read again what it expired."""
        await self.session.rollback()
        for row in rows:
            if inspect(row).persistent:
                await self.session.refresh(row)

    async def book(
        self,
        business: Business,
        offering: Offering,
        client: User,
        start: datetime.datetime,
        *,
        staff_id: uuid.UUID | None,
        now: datetime.datetime,
        actor: Actor,
    ) -> Appointment:
        """Book ``start`` with ``staff_id`` (``None``: whoever is free first in the list)."""
        staff = await self.candidates(offering, staff_id)
        day = [business.local_date(start)]
        await self._serialize()
        free = await self.free_times(business, offering, staff, day, now=now)
        match = next((option for option in free if option.start == start), None)
        if match is None:
            await self._roll_back(business, offering, *staff)
            raise await self.unavailable(business, offering, staff, start, now=now)
        shape = shape_of(offering)
        occupied = shape.occupies(start)
        appointment = Appointment(
            client_id=client.id,
            staff_id=match.staff[0],
            offering_id=offering.id,
            starts_at=start,
            ends_at=start + shape.duration,
            occupied_from=occupied.start,
            occupied_until=occupied.end,
            price_cents=offering.price_cents,
            currency=business.currency,
        )
        self.session.add(appointment)
        try:
            await self.session.flush()
        except DBAPIError as error:
            if not lost_race(error):
                raise
            await self._roll_back(business, offering, *staff)
            raise await self.unavailable(business, offering, staff, start, now=now) from None
        record(self.session, "appointment.booked", actor=actor, subject_id=client.id, appointment=str(appointment.id))
        self.tell(client, "appointment_booked", business, offering, appointment, now=now)
        await self.session.commit()
        return appointment

    def tell(
        self,
        client: User,
        kind: str,
        business: Business,
        offering: Offering,
        appointment: Appointment,
        *,
        now: datetime.datetime,
    ) -> None:
        """The client's e-mail about the appointment, with its calendar file (none for a
        client staff know only by phone)."""
        if client.address is None:
            return
        zone = ZoneInfo(client.time_zone or business.time_zone)
        context = {
            "name": client.name,
            "business": business.name,
            "offering": offering.name,
            "starts": appointment.starts_at.astimezone(zone),
            "zone": zone.key,
            "minutes": offering.duration_minutes,
        }
        calendar = appointment_calendar(
            appointment, offering, business, attendee=client.address, domain=self.domain, now=now
        )
        enqueue(self.session, kind, to=client.address, user_id=client.id, context=context, calendar=calendar)

    # --- the client's appointments ------------------------------------------------------

    async def appointments_of(self, client_id: uuid.UUID) -> list[AppointmentView]:
        """The client's appointments, the latest start first."""
        statement = (
            select(Appointment, Offering.name, StaffProfile.name_of(User))
            .join(Offering, Offering.id == Appointment.offering_id)
            .outerjoin(User, User.id == Appointment.staff_id)
            .outerjoin(StaffProfile, StaffProfile.user_id == Appointment.staff_id)
            .where(Appointment.client_id == client_id)
            .order_by(Appointment.starts_at.desc())
        )
        return [AppointmentView(*row) for row in (await self.session.execute(statement)).all()]

    async def appointment_of(self, client_id: uuid.UUID, appointment_id: uuid.UUID) -> AppointmentView | None:
        """One of the client's appointments; ``None`` for anyone else's (or none at all)."""
        found = [view for view in await self.appointments_of(client_id) if view.appointment.id == appointment_id]
        return found[0] if found else None

    async def reschedule(
        self,
        business: Business,
        view: AppointmentView,
        client: User,
        start: datetime.datetime,
        *,
        version: int,
        now: datetime.datetime,
        actor: Actor,
    ) -> Appointment:
        """The client moves the appointment to ``start``, with the same staff member, up to
        the cut-off."""
        appointment = self._changeable(business, view, version=version, now=now)
        return await self.move(
            business, appointment, client, start, staff_id=appointment.staff_id, now=now, actor=actor, by="client"
        )

    async def move(
        self,
        business: Business,
        appointment: Appointment,
        client: User | None,
        start: datetime.datetime,
        *,
        staff_id: uuid.UUID | None,
        now: datetime.datetime,
        actor: Actor,
        by: str,
    ) -> Appointment:
        """Move the appointment to ``start`` with ``staff_id`` (``by``: ``client`` or
        ``staff``, who checked first that it may still be moved): the same row (its
        history says from when to when), the calendar file's SEQUENCE raised, the
        reminder due again for the new time, the client told."""
        offering = await self.session.get_one(Offering, appointment.offering_id)
        staff = [person for person in await self.performers(offering) if person.id == staff_id]
        if not staff:
            raise NotPerformedError
        day = [business.local_date(start)]
        await self._serialize()
        free = await self.free_times(business, offering, staff, day, now=now, ignoring=appointment.id)
        if not any(option.start == start for option in free):
            await self._roll_back(business, offering, appointment, *staff)
            raise await self.unavailable(business, offering, staff, start, now=now, ignoring=appointment.id)
        shape = shape_of(offering)
        occupied = shape.occupies(start)
        entry = {"at": now.isoformat(), "from": appointment.starts_at.isoformat(), "to": start.isoformat(), "by": by}
        appointment.staff_id = staff[0].id
        appointment.starts_at, appointment.ends_at = start, start + shape.duration
        appointment.occupied_from, appointment.occupied_until = occupied.start, occupied.end
        appointment.history = [*appointment.history, entry]
        appointment.sequence += 1
        record(
            self.session, "appointment.rescheduled", actor=actor, subject_id=appointment.client_id,
            appointment=str(appointment.id),
        )  # fmt: skip
        if client is not None:
            self.tell(client, "appointment_rescheduled", business, offering, appointment, now=now)
        try:
            await self.session.commit()
        except StaleDataError:
            await self.session.rollback()
            raise StaleAppointmentError from None
        except DBAPIError as error:
            if not lost_race(error):
                raise
            await self._roll_back(business, offering, appointment, *staff)
            raise await self.unavailable(business, offering, staff, start, now=now, ignoring=appointment.id) from None
        return appointment

    @staticmethod
    def _changeable(business: Business, view: AppointmentView, *, version: int, now: datetime.datetime) -> Appointment:
        """The appointment, if the client may still change it as the page they sent showed it."""
        appointment = view.appointment
        if version != appointment.version:
            raise StaleAppointmentError
        if appointment.status is AppointmentStatus.CANCELLED:
            raise AlreadyCancelledError
        if appointment.status is not AppointmentStatus.BOOKED:  # arrived, completed, no-show: the desk's now
            raise CutoffPassedError(business)
        if now > appointment.starts_at - datetime.timedelta(hours=business.cutoff_hours):
            raise CutoffPassedError(business)
        return appointment

    async def cancel(
        self,
        business: Business,
        view: AppointmentView,
        client: User,
        *,
        version: int,
        now: datetime.datetime,
        actor: Actor,
    ) -> None:
        """The client cancels, up to the cut-off. The row stays: who cancelled it, when."""
        appointment = self._changeable(business, view, version=version, now=now)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at, appointment.cancelled_by_id = now, client.id
        appointment.sequence += 1
        record(
            self.session, "appointment.cancelled", actor=actor, subject_id=client.id, appointment=str(appointment.id)
        )
        offering = await self.session.get_one(Offering, appointment.offering_id)
        self.tell(client, "appointment_cancelled", business, offering, appointment, now=now)
        try:
            await self.session.commit()
        except StaleDataError:  # changed between this request's read and its write
            await self.session.rollback()
            raise StaleAppointmentError from None


def _is_performer(user_id: object) -> object:
    """``user_id`` is an active staff member or administrator (who can take appointments)."""
    return exists().where(User.id == user_id, can_perform())


async def cancel_upcoming(session: AsyncSession, person: uuid.UUID, now: datetime.datetime) -> int:
    """Closing an account: the person's upcoming appointments (as client or staff) are
    cancelled before their rows are anonymized; past ones stay as they were."""
    result = await session.execute(
        update(Appointment)
        .where(
            Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
            Appointment.starts_at > now,
            (Appointment.client_id == person) | (Appointment.staff_id == person),
        )
        .values(
            status=AppointmentStatus.CANCELLED,
            cancelled_at=now,
            cancelled_by_id=person,
            sequence=Appointment.sequence + 1,
            version=Appointment.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def split_by_time(views: Iterable[AppointmentView], now: datetime.datetime) -> tuple[list[AppointmentView], ...]:
    """Upcoming (soonest first) and past (latest first) appointments."""
    upcoming = [view for view in views if view.appointment.starts_at >= now]
    past = [view for view in views if view.appointment.starts_at < now]
    return sorted(upcoming, key=lambda view: view.appointment.starts_at), past
