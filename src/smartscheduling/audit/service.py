"""Writing audit events: always inside the caller's transaction, never committed alone."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.audit.models import AuditEvent
from smartscheduling.network import network_prefix

#: How an action reads to the person it concerns (e.g. in "Your data").
DESCRIPTIONS = {
    "auth.login": "Signed in",
    "auth.login_failed": "Wrong password",
    "auth.login_refused": "Refused (account suspended)",
    "auth.logout": "Signed out",
    "auth.password_changed": "Changed the password",
    "client.viewed": "Opened your record",
    "profile.updated": "Changed your profile",
    "profile.exported": "Downloaded your data",
}


def describe(action: str) -> str:
    return DESCRIPTIONS.get(action, action.replace(".", ": ").replace("_", " ").capitalize())


def record(
    session: AsyncSession,
    action: str,
    *,
    actor_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event to ``session``; it commits (or rolls back) with the change it describes.

    ``details`` names what happened (fields, reasons), never values of personal data or
    secrets.
    """
    event = AuditEvent(
        action=action, actor_id=actor_id, subject_id=subject_id, ip_prefix=network_prefix(ip), details=details
    )
    session.add(event)
    return event
