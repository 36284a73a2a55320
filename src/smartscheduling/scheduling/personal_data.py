"""What scheduling holds about a person (see ``smartscheduling.personal_data``): so far,
which services a staff member performs."""

from __future__ import annotations

from smartscheduling.personal_data import YOUR_ACCOUNT_ID, Erasure, Holding
from smartscheduling.scheduling.models import OfferingStaff

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
)
