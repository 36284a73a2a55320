"""What cookie consent holds about a person (see ``smartscheduling.personal_data``)."""

from __future__ import annotations

from smartscheduling.consent.models import ConsentRecord
from smartscheduling.personal_data import Erasure, Holding

INTERNAL = "internal bookkeeping of the database, never about you"

HOLDINGS = (
    Holding(
        key="cookie_consents",
        title="Your cookie choices",
        purpose="To prove which cookies you allowed or refused, under which cookie policy, and when.",
        model=ConsentRecord,
        owners=("user_id",),
        shown=("decided_at", "consent_id", "method", "preferences", "analytics", "gpc", "policy_version"),
        withheld={"id": INTERNAL, "user_id": "your account's id (shown above)", "sa_orm_sentinel": INTERNAL},
        erasure=Erasure.DELETE,
        order_by="decided_at",
    ),
)
