"""What the audit log holds about a person (see ``smartscheduling.personal_data``)."""

from __future__ import annotations

import uuid
from typing import Any

from smartscheduling.audit.models import AuditEvent
from smartscheduling.personal_data import INTERNAL, Erasure, Holding


def _by(event: Any, person: uuid.UUID) -> dict[str, str]:
    if event.actor_id == person:
        return {"by": "you"}
    return {"by": "a staff member" if event.actor_id else "nobody signed in"}


HOLDINGS = (
    Holding(
        key="activity",
        title="Activity and access log",
        purpose="To keep your account secure and to show you who opened or changed your data, and when.",
        model=AuditEvent,
        owners=("subject_id", "actor_id"),
        shown=("occurred_at", "action", "ip_prefix", "details"),
        withheld={
            "id": INTERNAL,
            "actor_id": "who acted: given as 'by'",
            "subject_id": "whose data it was: you (staff: the people they served, not yours to export)",
            "sa_orm_sentinel": INTERNAL,
        },
        erasure=Erasure.ANONYMIZE,
        kept_because=(
            "What happened and when stays in the security log, with no link to you and without your network, "
            "so the service's security history stays complete."
        ),
        blanked=("ip_prefix",),
        derived=_by,
        derived_columns=("by",),
        order_by="occurred_at",
        about="subject_id",
    ),
)
