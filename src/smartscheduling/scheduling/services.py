"""The scheduling rules: the business and its settings, its closed days, the services it offers."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import ColumnElement, and_, delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from smartscheduling.accounts.models import AccountStatus, Role, User
from smartscheduling.audit.service import Actor, record
from smartscheduling.business_days import public_holidays as holidays_between
from smartscheduling.db import utcnow
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.scheduling.models import (
    THE_BUSINESS,
    Business,
    BusinessDay,
    ExceptionKind,
    Offering,
    OfferingStaff,
    StaffException,
    StaffProfile,
    WorkingHours,
)

#: What the settings form edits, in its order.
SETTINGS = (
    "name", "time_zone", "country", "subdivision", "slot_step_minutes", "notice_minutes", "horizon_days",
    "cutoff_hours", "reminder_hours", "currency", "phone", "email",
)  # fmt: skip


class StaleSettingsError(RefusedError):
    """The settings changed since the form was opened; ``current`` is how they are now."""

    kind = Refusal.CONFLICT
    sentence = (
        "Someone saved the settings after you opened this form (in another tab, or a colleague). "
        "What you typed is still below: save again to replace their change, or reload the page to see it."
    )

    def __init__(self, current: Business) -> None:
        super().__init__()
        self.current = current


class BusinessService(SQLAlchemyAsyncRepositoryService[Business]):
    class Repo(SQLAlchemyAsyncRepository[Business]):
        model_type = Business

    repository_type = Repo

    async def current(self) -> Business:
        """The business: its row, or the defaults until an administrator first saves."""
        return await self.get_one_or_none(id=THE_BUSINESS) or Business.defaults()

    async def change(self, business: Business, *, version: int, values: dict[str, Any], actor: Actor) -> list[str]:
        """Save the settings if they are still at ``version`` (the form's); which fields
        changed. One unit of work with its audit event (the fields, not their values)."""
        if version != business.version:
            raise StaleSettingsError(business)
        changed = [name for name in SETTINGS if getattr(business, name) != values[name]]
        if not changed:
            return []
        session = self.repository.session
        first = inspect(business).transient
        for name in changed:
            setattr(business, name, values[name])
        if first:
            session.add(business)
        record(session, "business.updated", actor=actor, fields=changed)
        try:
            await session.commit()
        except (StaleDataError, IntegrityError):  # saved elsewhere since this request read it
            await session.rollback()
            raise StaleSettingsError(await self.current()) from None
        return changed


class OfferingNameTakenError(RefusedError):
    kind = Refusal.CONFLICT
    field = "name"
    sentence = "Another service already has this name (perhaps an archived one)."


class StaleOfferingError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = (
        "Someone saved this service after you opened this form. What you typed is still below: "
        "save again to replace their change, or reload the page to see it."
    )

    def __init__(self, current: Offering) -> None:
        super().__init__()
        self.current = current


class UnknownStaffError(RefusedError):
    field = "staff"
    sentence = "Choose the staff members from the list."


@dataclass(frozen=True, slots=True)
class OfferingChange:
    """What the form says an offering is (``staff``: who performs it)."""

    values: dict[str, Any]
    staff: frozenset[uuid.UUID]


def can_perform() -> ColumnElement[bool]:
    """The user is someone who performs services: an active staff member or administrator."""
    return and_(User.role.in_((Role.STAFF, Role.ADMIN)), User.status == AccountStatus.ACTIVE)


class OfferingService(SQLAlchemyAsyncRepositoryService[Offering]):
    """The services the business offers, and who performs each. Every change is one unit
    of work with its audit event (the fields that changed, never the values)."""

    class Repo(SQLAlchemyAsyncRepository[Offering]):
        model_type = Offering

    repository_type = Repo

    async def catalogue(self) -> Sequence[Offering]:
        """Offered ones first, then the archived, each by name."""
        return await self.get_many(order_by=[("archived_at", False), ("name", False)])

    async def performers(self) -> Sequence[User]:
        """Who can perform a service: active staff members and administrators, by name."""
        statement = select(User).where(can_perform())
        return (await self.repository.session.scalars(statement.order_by(User.name, User.email))).all()

    async def staff_of(self, offering_id: uuid.UUID) -> frozenset[uuid.UUID]:
        statement = select(OfferingStaff.user_id).where(OfferingStaff.offering_id == offering_id)
        return frozenset((await self.repository.session.scalars(statement)).all())

    async def _check_staff(self, staff: frozenset[uuid.UUID]) -> None:
        if not staff <= {user.id for user in await self.performers()}:
            raise UnknownStaffError

    async def add(self, change: OfferingChange, *, actor: Actor) -> Offering:
        await self._check_staff(change.staff)
        session = self.repository.session
        offering = Offering(**change.values)
        session.add(offering)
        try:
            await session.flush()
        except IntegrityError:  # the unique name
            await session.rollback()
            raise OfferingNameTakenError from None
        session.add_all(OfferingStaff(offering_id=offering.id, user_id=user_id) for user_id in change.staff)
        record(session, "offering.created", actor=actor, offering=offering.name, staff=len(change.staff))
        await session.commit()
        return offering

    async def change(self, offering: Offering, change: OfferingChange, *, version: int, actor: Actor) -> list[str]:
        """Save the form if the offering is still at ``version``; which fields changed."""
        if version != offering.version:
            raise StaleOfferingError(offering)
        await self._check_staff(change.staff)
        session = self.repository.session
        changed = [name for name, value in change.values.items() if getattr(offering, name) != value]
        before = await self.staff_of(offering.id)
        if change.staff != before:
            changed.append("staff")
        if not changed:
            return []
        for name, value in change.values.items():
            setattr(offering, name, value)
        if "staff" in changed:
            await session.execute(
                delete(OfferingStaff).where(
                    OfferingStaff.offering_id == offering.id, OfferingStaff.user_id.not_in(change.staff)
                )
            )
            session.add_all(
                OfferingStaff(offering_id=offering.id, user_id=user_id) for user_id in change.staff - before
            )
            offering.updated_at = utcnow()  # a change of staff is a change of the offering (its version moves)
        record(session, "offering.updated", actor=actor, offering=offering.name, fields=changed)
        try:
            await session.commit()
        except StaleDataError:  # saved elsewhere between this request's read and its write
            await session.rollback()
            await session.refresh(offering)
            raise StaleOfferingError(offering) from None
        except IntegrityError:
            await session.rollback()
            await session.refresh(offering)
            raise OfferingNameTakenError from None
        return changed

    async def archive(self, offering: Offering, *, archived: bool, actor: Actor) -> None:
        """Stop offering it for booking (or offer it again); its appointments keep it."""
        if (offering.archived_at is not None) == archived:
            return
        offering.archived_at = utcnow() if archived else None
        action = "offering.archived" if archived else "offering.restored"
        record(self.repository.session, action, actor=actor, offering=offering.name)
        await self.repository.session.commit()


class PastDayError(RefusedError):
    field = "day"
    sentence = "That day is over: choose today or a later day."


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """A day that is not like the others: a public holiday (``holiday`` names it), or a
    day the business chose; ``closed`` says whether clients can book on it."""

    day: datetime.date
    holiday: str | None
    closed: bool
    note: str


def public_holidays(business: Business, start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
    """The public holidays of the business's country and region, ``start`` to ``end``."""
    return holidays_between(business.country, business.subdivision, start, end)


class ClosedDayService:
    """Closed days: the public holidays (each can be opened) and the days the business
    closes besides. Spans the business, its exceptions and the holidays package."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def calendar(self, business: Business, start: datetime.date, end: datetime.date) -> list[CalendarDay]:
        holidays_ = public_holidays(business, start, end)
        chosen = {
            row.day: row
            for row in await self.session.scalars(
                select(BusinessDay).where(BusinessDay.day >= start, BusinessDay.day <= end)
            )
        }
        days = sorted(set(holidays_) | set(chosen))
        return [
            CalendarDay(
                day=day,
                holiday=holidays_.get(day),
                closed=chosen[day].closed if day in chosen else True,
                note=chosen[day].note if day in chosen else "",
            )
            for day in days
        ]

    async def closed_between(
        self, business: Business, start: datetime.date, end: datetime.date
    ) -> frozenset[datetime.date]:
        """The days nobody can book, ``start`` to ``end``: what availability is given."""
        return frozenset(entry.day for entry in await self.calendar(business, start, end) if entry.closed)

    async def set_closed(
        self, business: Business, day: datetime.date, *, closed: bool, note: str, today: datetime.date, actor: Actor
    ) -> None:
        """Close the business on ``day`` or open it (a public holiday is closed unless opened)."""
        if day < today:
            raise PastDayError
        is_holiday = day in public_holidays(business, day, day)
        row = await self.session.get(BusinessDay, day)
        if closed == is_holiday:  # back to what the calendar says: no exception to keep
            if row is not None:
                await self.session.delete(row)
        elif row is None:
            self.session.add(BusinessDay(day=day, closed=closed, note=note))
        else:
            row.closed, row.note = closed, note
        action = "business.day_closed" if closed else "business.day_opened"
        record(self.session, action, actor=actor, day=day.isoformat())
        await self.session.commit()


@dataclass(frozen=True, slots=True)
class ExceptionChange:
    """What the form says: time off or extra hours, the days, the hours (``None``: the
    whole days) and a note."""

    kind: ExceptionKind
    first_day: datetime.date
    last_day: datetime.date
    interval: tuple[int, int] | None
    note: str


class ScheduleService:
    """Staff members' usual weeks, their time off and extra hours. Each change is one unit
    of work with its audit event (whose, which days; the hours themselves are in the rows)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def week(self, user_id: uuid.UUID) -> dict[int, list[tuple[int, int]]]:
        statement = select(WorkingHours).where(WorkingHours.user_id == user_id)
        week: dict[int, list[tuple[int, int]]] = {weekday: [] for weekday in range(7)}
        for row in await self.session.scalars(statement.order_by(WorkingHours.weekday, WorkingHours.start_minute)):
            week[row.weekday].append((row.start_minute, row.end_minute))
        return week

    async def set_week(self, user_id: uuid.UUID, week: dict[int, list[tuple[int, int]]], *, actor: Actor) -> list[int]:
        """Replace the staff member's week; the weekdays that changed."""
        before = await self.week(user_id)
        changed = [weekday for weekday in range(7) if before[weekday] != week.get(weekday, [])]
        if not changed:
            return []
        await self.session.execute(
            delete(WorkingHours).where(WorkingHours.user_id == user_id, WorkingHours.weekday.in_(changed))
        )
        self.session.add_all(
            WorkingHours(user_id=user_id, weekday=weekday, start_minute=start, end_minute=end)
            for weekday in changed
            for start, end in week.get(weekday, [])
        )
        record(self.session, "staff.hours_changed", actor=actor, subject_id=user_id, weekdays=changed)
        await self.session.commit()
        return changed

    async def exceptions(self, user_id: uuid.UUID, since: datetime.date) -> Sequence[StaffException]:
        """The staff member's time off and extra hours that are not over, soonest first."""
        statement = select(StaffException).where(StaffException.user_id == user_id, StaffException.last_day >= since)
        return (await self.session.scalars(statement.order_by(StaffException.first_day, StaffException.id))).all()

    async def exceptions_between(
        self, user_ids: Sequence[uuid.UUID], first: datetime.date, last: datetime.date
    ) -> Sequence[StaffException]:
        """Everyone's in ``user_ids`` that touch the days ``first`` to ``last``: what availability is given."""
        statement = select(StaffException).where(
            StaffException.user_id.in_(user_ids), StaffException.first_day <= last, StaffException.last_day >= first
        )
        return (await self.session.scalars(statement)).all()

    async def add_exception(
        self, user_id: uuid.UUID, change: ExceptionChange, *, today: datetime.date, actor: Actor
    ) -> StaffException:
        if change.first_day < today:
            raise PastDayError(problems={"first_day": PastDayError.sentence})
        start, end = change.interval or (None, None)
        row = StaffException(
            user_id=user_id, kind=change.kind, first_day=change.first_day, last_day=change.last_day,
            start_minute=start, end_minute=end, note=change.note,
        )  # fmt: skip
        self.session.add(row)
        record(
            self.session, f"staff.{change.kind.value}_added", actor=actor, subject_id=user_id,
            first_day=change.first_day.isoformat(), last_day=change.last_day.isoformat(),
        )  # fmt: skip
        await self.session.commit()
        return row

    async def remove_exception(
        self, user_id: uuid.UUID, exception_id: uuid.UUID, *, kinds: frozenset[ExceptionKind], actor: Actor
    ) -> StaffException | None:
        """Remove one of the staff member's entries of ``kinds``; ``None`` if there is none such."""
        row = await self.session.get(StaffException, exception_id)
        if row is None or row.user_id != user_id or row.kind not in kinds:
            return None
        await self.session.delete(row)
        record(
            self.session, f"staff.{row.kind.value}_removed", actor=actor, subject_id=user_id,
            first_day=row.first_day.isoformat(), last_day=row.last_day.isoformat(),
        )  # fmt: skip
        await self.session.commit()
        return row

    async def profile(self, user_id: uuid.UUID) -> StaffProfile | None:
        return await self.session.get(StaffProfile, user_id)

    async def profiles(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StaffProfile]:
        """How each of ``user_ids`` appears to clients (only those who said)."""
        if not user_ids:
            return {}
        rows = await self.session.scalars(select(StaffProfile).where(StaffProfile.user_id.in_(user_ids)))
        return {row.user_id: row for row in rows}

    async def set_profile(self, user_id: uuid.UUID, *, display_name: str, bio: str, actor: Actor) -> list[str]:
        """Save how the staff member appears to clients; which fields changed."""
        row = await self.profile(user_id)
        if row is None:
            row = StaffProfile(user_id=user_id, display_name=display_name, bio=bio)
            self.session.add(row)
            changed = ["display_name", *(["bio"] if bio else [])]
        else:
            changed = [
                name for name, value in (("display_name", display_name), ("bio", bio)) if getattr(row, name) != value
            ]
            row.display_name, row.bio = display_name, bio
        if changed:
            record(self.session, "staff.profile_changed", actor=actor, subject_id=user_id, fields=changed)
            await self.session.commit()
        return changed
