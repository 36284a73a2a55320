"""What scheduling holds about a person (see ``smartscheduling.personal_data``): the
appointments they book (or perform), which services a staff member performs and their
usual working week."""

from __future__ import annotations

import uuid
from typing import Any

from smartscheduling.personal_data import INTERNAL, YOUR_ACCOUNT_ID, Erasure, Holding
from smartscheduling.scheduling.booking import cancel_upcoming
from smartscheduling.scheduling.models import Appointment, OfferingStaff, StaffException, StaffProfile, WorkingHours


def _roles(appointment: Any, person: uuid.UUID) -> dict[str, str]:
    role = "client" if appointment.client_id == person else "staff" if appointment.staff_id == person else "other"
    cancelled = {"cancelled_by": "you"} if appointment.cancelled_by_id == person else {}
    return {"you_were": role, **cancelled}


HOLDINGS = (
    Holding(
        key="appointments",
        title="Your appointments",
        purpose="To keep the appointments you book, remind you of them and let you change them.",
        model=Appointment,
        owners=("client_id", "staff_id", "cancelled_by_id"),
        shown=(
            "offering_id",
            "starts_at",
            "ends_at",
            "price_cents",
            "currency",
            "status",
            "cancelled_at",
            "history",
            "created_at",
            "updated_at",
        ),
        withheld={
            "id": INTERNAL,
            "sa_orm_sentinel": INTERNAL,
            "client_id": "who booked it: given as 'you_were'",
            "staff_id": "who performs it: given as 'you_were'",
            "cancelled_by_id": "who cancelled it: given as 'cancelled_by' when it was you",
            "occupied_from": "the start time less the time kept free before it: the business's planning",
            "occupied_until": "the end time plus the time kept free after it: the business's planning",
            "sequence": "how often your calendar file was updated",
            "reminded_for": "the start time a reminder was sent for",
            "version": INTERNAL,
        },
        erasure=Erasure.ANONYMIZE,
        kept_because=(
            "Which service was booked, when, at what price and whether it took place stay in the business's "
            "figures with nothing that identifies you; upcoming appointments are cancelled first."
        ),
        derived=_roles,
        derived_columns=("you_were", "cancelled_by"),
        order_by="starts_at",
        before_erasure=cancel_upcoming,
        about="client_id",
    ),
    Holding(
        key="offerings_performed",
        title="Services you perform (staff)",
        purpose="To offer clients the services you perform, with you.",
        model=OfferingStaff,
        owners=("user_id",),
        shown=("offering_id",),
        withheld={"user_id": YOUR_ACCOUNT_ID},
        erasure=Erasure.DELETE,
        order_by="offering_id",
    ),
    Holding(
        key="working_hours",
        title="Your working hours (staff)",
        purpose="To offer clients the times you work.",
        model=WorkingHours,
        owners=("user_id",),
        shown=("weekday", "start_minute", "end_minute"),
        withheld={"user_id": YOUR_ACCOUNT_ID},
        erasure=Erasure.DELETE,
        order_by="weekday",
    ),
    Holding(
        key="time_off",
        title="Your time off and extra hours (staff)",
        purpose="To offer clients only the times you work.",
        model=StaffException,
        owners=("user_id",),
        shown=("kind", "first_day", "last_day", "start_minute", "end_minute", "note", "created_at", "updated_at"),
        withheld={"id": INTERNAL, "user_id": YOUR_ACCOUNT_ID, "sa_orm_sentinel": INTERNAL},
        erasure=Erasure.DELETE,
        order_by="first_day",
    ),
    Holding(
        key="staff_profile",
        title="How clients see you (staff)",
        purpose="To show clients who they book with.",
        model=StaffProfile,
        owners=("user_id",),
        shown=("display_name", "bio", "updated_at"),
        withheld={"user_id": YOUR_ACCOUNT_ID},
        erasure=Erasure.DELETE,
        order_by="user_id",
    ),
)
