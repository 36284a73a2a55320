"""What scheduling holds about a person (see ``smartscheduling.personal_data``): so far,
which services a staff member performs and their usual working week."""

from __future__ import annotations

from smartscheduling.personal_data import YOUR_ACCOUNT_ID, Erasure, Holding
from smartscheduling.scheduling.models import OfferingStaff, WorkingHours

HOLDINGS = (
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
)
