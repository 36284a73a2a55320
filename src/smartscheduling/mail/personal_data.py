"""What the outbox holds about a person (see ``smartscheduling.personal_data``)."""

from __future__ import annotations

from smartscheduling.mail.models import OutboxMessage
from smartscheduling.personal_data import INTERNAL, YOUR_ACCOUNT_ID, Erasure, Holding

BOOKKEEPING = "delivery bookkeeping"

HOLDINGS = (
    Holding(
        key="emails",
        title="E-mails we sent you",
        purpose="To send you the account and privacy e-mails you need. Address and text are erased once delivered.",
        model=OutboxMessage,
        owners=("user_id",),
        shown=("kind", "subject", "to_address", "status", "created_at", "sent_at", "last_error"),
        withheld={
            "id": INTERNAL,
            "user_id": YOUR_ACCOUNT_ID,
            "body_text": "the message itself, which holds single-use links; erased once delivered",
            "body_html": "the message itself, which holds single-use links; erased once delivered",
            "calendar": "the calendar file sent with an appointment's e-mail (your appointments are exported); "
            "erased once delivered",
            "attempts": BOOKKEEPING,
            "next_attempt_at": BOOKKEEPING,
            "locked_until": BOOKKEEPING,
            "dedupe_key": BOOKKEEPING,
            "campaign_id": BOOKKEEPING,
            "updated_at": BOOKKEEPING,
            "sa_orm_sentinel": INTERNAL,
        },
        erasure=Erasure.DELETE,
        order_by="created_at",
    ),
)
