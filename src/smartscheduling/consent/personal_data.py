"""What cookie consent holds about a person (see ``smartscheduling.personal_data``)."""

from __future__ import annotations

from smartscheduling.consent.models import ConsentRecord
from smartscheduling.personal_data import INTERNAL, YOUR_ACCOUNT_ID, Erasure, Holding

HOLDINGS = (
    Holding(
        key="cookie_consents",
        title="Your cookie choices",
        purpose="To prove which cookies you allowed or refused, under which cookie policy, and when.",
        model=ConsentRecord,
        owners=("user_id",),
        shown=("decided_at", "consent_id", "method", "preferences", "analytics", "gpc", "policy_version"),
        withheld={"id": INTERNAL, "user_id": YOUR_ACCOUNT_ID, "sa_orm_sentinel": INTERNAL},
        erasure=Erasure.DELETE,
        order_by="decided_at",
    ),
)
