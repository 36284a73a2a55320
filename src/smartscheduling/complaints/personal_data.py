"""What the complaints capability holds about a person (see ``smartscheduling.personal_data``):
the complaints they made signed in, and each one's timeline.

At erasure a complaint is kept anonymized: its reference, channel, dates, deadlines and
status stay, so that the business can show how every complaint was handled and within
which time; the complainant's name, address, what they wrote, what they were told and
everything on the timeline go."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.complaints.models import Complaint, ComplaintEvent
from smartscheduling.personal_data import INTERNAL, YOUR_ACCOUNT_ID, Erasure, Holding

KEPT_BECAUSE = (
    "The complaint's reference, dates, deadlines and status stay, with no link to you and nothing you or we "
    "wrote, so that we can show how each complaint was handled and how fast."
)


def _complaint(row: Any, person: uuid.UUID) -> dict[str, Any]:
    del person
    return {"reference": f"PC-{row.year}-{row.number:04d}"}


def _event(row: Any, person: uuid.UUID) -> dict[str, Any]:
    """A step on the person's complaint as it is; one a staff member took on someone
    else's complaint stays that person's."""
    if row.complainant_id == person:
        return {"by": "you" if row.actor_id == person or row.kind in {"received", "added"} else "us"}
    return {"body": "(a step you took on someone else's complaint: it is theirs)", "by": "you"}


async def _forget_timelines(session: AsyncSession, person: uuid.UUID, now: datetime.datetime) -> None:
    """Everything written on the person's complaints' timelines goes, whoever wrote it."""
    del now
    theirs = select(Complaint.id).where(Complaint.user_id == person).scalar_subquery()
    await session.execute(
        update(ComplaintEvent)
        .where(ComplaintEvent.complaint_id.in_(theirs))
        .values(body=None)
        .execution_options(synchronize_session=False)
    )


HOLDINGS = (
    Holding(
        key="complaints",
        title="Your privacy complaints",
        purpose="To handle your complaint within the time our privacy policy promises and tell you the outcome.",
        model=Complaint,
        owners=("user_id",),
        shown=(
            *("name", "email", "details", "channel", "received_at", "respond_by", "resolve_by"),
            *("first_response_at", "status", "resolved_at", "outcome"),
        ),
        withheld={
            "id": INTERNAL,
            "sa_orm_sentinel": INTERNAL,
            "user_id": YOUR_ACCOUNT_ID,
            "year": "given as the reference",
            "number": "given as the reference",
            "counts_from": "the business day the first-response clock started: used to work out respond_by",
            "link_digest": "a keyed digest of your private link: useless without the link itself",
            "version": "a counter that stops two edits from overwriting each other",
            "created_at": INTERNAL,
            "updated_at": INTERNAL,
        },
        erasure=Erasure.ANONYMIZE,
        kept_because=KEPT_BECAUSE,
        blanked=("name", "email", "details", "outcome", "link_digest"),
        derived=_complaint,
        derived_columns=("reference",),
        order_by="received_at",
        before_erasure=_forget_timelines,
        about="user_id",
    ),
    Holding(
        key="complaint_timeline",
        title="What happened to your complaints",
        purpose="To show you every reply, question and step on your complaint.",
        model=ComplaintEvent,
        owners=("complainant_id", "actor_id"),
        shown=("kind", "body", "internal", "at"),
        withheld={
            "id": INTERNAL,
            "sa_orm_sentinel": INTERNAL,
            "complaint_id": "which complaint: the one listed above",
            "complainant_id": YOUR_ACCOUNT_ID,
            "actor_id": "who wrote it: given as 'by'",
        },
        erasure=Erasure.ANONYMIZE,
        kept_because="Only the fact that a step happened, and when; not what it said.",
        derived=_event,
        derived_columns=("by",),
        order_by="at",
        about="complainant_id",
    ),
)
