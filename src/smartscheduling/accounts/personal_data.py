"""What the accounts capability holds about a person (see ``smartscheduling.personal_data``)."""

from __future__ import annotations

from smartscheduling.accounts.models import AccountToken, User
from smartscheduling.personal_data import INTERNAL, YOUR_ACCOUNT_ID, Erasure, Holding

HOLDINGS = (
    Holding(
        key="account",
        title="Your account and profile",
        purpose=(
            "To run your account: sign you in, reach you about your appointments, honour your preferences "
            "(or, without an account, the details you gave the business)."
        ),
        model=User,
        owners=("id",),
        shown=(
            *("id", "name", "email", "contact_email", "email_verified_at", "phone", "postal_address", "country"),
            "date_of_birth",
            *("time_zone", "language", "notify_reminders_email", "notify_reminders_sms", "notify_news"),
            *("role", "status", "created_at", "updated_at"),
            "search_text",  # name, addresses and the phone's digits again, in lower case: staff's search
        ),
        withheld={
            "password_hash": "a one-way PBKDF2 hash of your password: it cannot be turned back into the password",
            "session_epoch": "a counter that lets us end all your sessions at once",
            "profile_version": "a counter that stops two edits from overwriting each other",
            "sa_orm_sentinel": INTERNAL,
        },
        erasure=Erasure.DELETE,
    ),
    Holding(
        key="links",
        title="Links we e-mailed you",
        purpose="To confirm your e-mail address and let you reset your password (each link works once).",
        model=AccountToken,
        owners=("user_id",),
        shown=("purpose", "email", "created_at", "expires_at", "used_at"),
        withheld={
            "id": INTERNAL,
            "user_id": YOUR_ACCOUNT_ID,
            "token_hash": "a keyed digest of the link: useless without the link itself",
            "epoch": "which password the link was sent under: a link from before a password change stops working",
            "sa_orm_sentinel": INTERNAL,
        },
        erasure=Erasure.DELETE,
        order_by="created_at",
    ),
)
