"""Reminders: the worker e-mails each client once per appointment time, the business's
``reminder_hours`` before it; never for a cancelled appointment, again after a move, and
not to a client who switched reminders off in their profile.

Exactly once, across restarts and concurrent workers: an appointment's reminder is
claimed by a conditional ``UPDATE`` (``reminded_for`` set to the start time it is sent
for) in the same transaction as its outbox row, and that row's ``dedupe_key`` (the
appointment and its start) is unique, so even two workers cannot queue it twice.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import AccountStatus, User
from smartscheduling.mail.outbox import enqueue
from smartscheduling.scheduling.models import Appointment, AppointmentStatus, Offering
from smartscheduling.scheduling.services import BusinessService

#: Appointments reminded per pass (the rest wait for the next pass).
BATCH = 200


def not_yet_reminded() -> object:
    return or_(Appointment.reminded_for.is_(None), Appointment.reminded_for != Appointment.starts_at)


async def send_reminders(engine: AsyncEngine, *, now: datetime.datetime, batch: int = BATCH) -> int:
    """Queue the reminders due at ``now``; how many."""
    async with AsyncSession(engine) as session:
        business = await BusinessService(session=session).current()
        lead = datetime.timedelta(hours=business.reminder_hours)
        business_name, business_zone = business.name, business.time_zone
        due = (
            await session.execute(
                select(
                    Appointment.id,
                    Appointment.starts_at,
                    Offering.name,
                    User.id,
                    User.name,
                    User.address,
                    User.time_zone,
                )
                .join(Offering, Offering.id == Appointment.offering_id)
                .join(User, User.id == Appointment.client_id)
                .where(
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.starts_at > now,
                    Appointment.starts_at <= now + lead,
                    not_yet_reminded(),
                    User.notify_reminders_email.is_(True),
                    User.status == AccountStatus.ACTIVE,
                    User.address.is_not(None),
                )
                .order_by(Appointment.starts_at)
                .limit(batch)
            )
        ).all()
    sent = 0
    for appointment_id, starts_at, offering, client_id, name, email, time_zone in due:
        async with AsyncSession(engine) as session:
            claimed = await session.execute(
                update(Appointment)
                .where(
                    Appointment.id == appointment_id,
                    Appointment.starts_at == starts_at,  # not moved since it was read
                    Appointment.status == AppointmentStatus.BOOKED,
                    not_yet_reminded(),
                )
                .values(reminded_for=starts_at)
                .execution_options(synchronize_session=False)
            )
            if not claimed.rowcount:  # another worker took it, or it changed meanwhile
                continue
            zone = ZoneInfo(time_zone or business_zone)
            context = {
                "name": name, "business": business_name, "offering": offering,
                "starts": starts_at.astimezone(zone), "zone": zone.key,
            }  # fmt: skip
            enqueue(
                session, "appointment_reminder", to=email, user_id=client_id, context=context,
                dedupe_key=f"reminder:{appointment_id}:{starts_at.isoformat()}",
            )  # fmt: skip
            await session.commit()
            sent += 1
    return sent
