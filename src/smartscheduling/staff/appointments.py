"""One appointment as the front desk handles it: its panel (client, service, staff,
history, the client's notes) and the actions on it — arrived, completed, no-show,
cancel. Each action is made against the version the page showed: an appointment
changed meanwhile (on another tablet) is refused with how it is now, never overwritten.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from smartscheduling.accounts.models import User
from smartscheduling.audit.service import Actor, record
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking import AlreadyCancelledError, BookingService, StaleAppointmentError
from smartscheduling.scheduling.models import Appointment, AppointmentStatus, Business, Offering, StaffProfile
from smartscheduling.staff.clients import NoteView, notes_of

#: What staff mark once the appointment's day has come.
MARKS = (AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


class NotYetError(RefusedError):
    sentence = "Arrived, completed and no-show can be marked from the appointment's day on."


class NotMovableError(RefusedError):
    sentence = "Only a booked appointment can be moved: mark it booked first."


class TookPlaceError(RefusedError):
    sentence = "This appointment is marked completed or no-show: mark it booked first to cancel it."


@dataclass(frozen=True, slots=True)
class Panel:
    appointment: Appointment
    offering: Offering
    client: User | None  # None: anonymized
    staff: str | None
    notes: list[NoteView]


class DeskService:
    def __init__(self, session: AsyncSession, bookings: BookingService) -> None:
        self.session = session
        self.bookings = bookings

    async def panel(self, appointment_id: uuid.UUID) -> Panel | None:
        """The appointment with what staff need to serve it."""
        staff = aliased(User)
        found = (
            await self.session.execute(
                select(Appointment, Offering, StaffProfile.name_of(staff))
                .join(Offering, Offering.id == Appointment.offering_id)
                .outerjoin(staff, staff.id == Appointment.staff_id)
                .outerjoin(StaffProfile, StaffProfile.user_id == Appointment.staff_id)
                .where(Appointment.id == appointment_id)
            )
        ).first()
        if found is None:
            return None
        appointment, offering, staff_name = found
        client = await self.session.get(User, appointment.client_id) if appointment.client_id else None
        notes = await notes_of(self.session, client.id) if client is not None else []
        return Panel(appointment, offering, client, staff_name, notes)

    async def viewed(self, panel: Panel, *, actor: Actor) -> None:
        """Showing the panel shows its client: recorded in their access log."""
        if panel.client is not None:
            appointment = str(panel.appointment.id)
            record(self.session, "client.viewed", actor=actor, subject_id=panel.client.id, appointment=appointment)
            await self.session.commit()

    async def _save(self) -> None:
        try:
            await self.session.commit()
        except StaleDataError:  # changed between this request's read and its write
            await self.session.rollback()
            raise StaleAppointmentError from None

    @staticmethod
    def _current(appointment: Appointment, version: int) -> None:
        if version != appointment.version:
            raise StaleAppointmentError
        if appointment.status is AppointmentStatus.CANCELLED:
            raise AlreadyCancelledError

    async def mark(
        self,
        business: Business,
        panel: Panel,
        status: AppointmentStatus,
        *,
        version: int,
        now: datetime.datetime,
        actor: Actor,
    ) -> None:
        """Arrived, completed or no-show (or back to booked, to undo a slip)."""
        appointment = panel.appointment
        self._current(appointment, version)
        if status in MARKS and business.local_date(now) < business.local_date(appointment.starts_at):
            raise NotYetError
        appointment.status = status
        record(
            self.session, "appointment.marked", actor=actor, subject_id=appointment.client_id,
            appointment=str(appointment.id), status=status.value,
        )  # fmt: skip
        await self._save()

    async def cancel(
        self, business: Business, panel: Panel, *, version: int, now: datetime.datetime, actor: Actor
    ) -> None:
        """Staff cancel (any time: the cut-off is the clients' rule) an appointment that has
        not taken place; the client is told."""
        appointment = panel.appointment
        self._current(appointment, version)
        if appointment.status not in {AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED}:
            raise TookPlaceError
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at, appointment.cancelled_by_id = now, actor.id
        appointment.sequence += 1
        record(
            self.session, "appointment.cancelled", actor=actor, subject_id=appointment.client_id,
            appointment=str(appointment.id),
        )  # fmt: skip
        if panel.client is not None:
            self.bookings.tell(panel.client, "appointment_cancelled", business, panel.offering, appointment, now=now)
        await self._save()

    async def reschedule(
        self,
        business: Business,
        panel: Panel,
        start: datetime.datetime,
        *,
        staff_id: uuid.UUID | None,
        version: int,
        now: datetime.datetime,
        actor: Actor,
    ) -> Appointment:
        """Move a booked appointment to ``start`` with ``staff_id``: never onto another
        appointment or into the past, but past the clients' cut-off and minimum notice;
        the client is told."""
        appointment = panel.appointment
        self._current(appointment, version)
        if appointment.status is not AppointmentStatus.BOOKED:
            raise NotMovableError
        return await self.bookings.at_desk().move(
            business, appointment, panel.client, start, staff_id=staff_id, now=now, actor=actor, by="staff"
        )
