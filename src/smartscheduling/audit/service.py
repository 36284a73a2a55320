"""Writing audit events: always inside the caller's transaction, never committed alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.audit.models import AuditEvent

#: How an action reads to the person it concerns (e.g. in "Your data").
DESCRIPTIONS = {
    "auth.login": "Signed in",
    "auth.login_failed": "Wrong password",
    "auth.login_refused": "Refused (account suspended)",
    "auth.logout": "Signed out",
    "auth.password_changed": "Changed the password",
    "client.created": "Added you to the client directory",
    "client.viewed": "Opened your record",
    "client.updated": "Changed your record",
    "client.note_added": "Added a note to your record",
    "profile.updated": "Changed your profile",
    "profile.exported": "Downloaded your data",
    "complaint.received": "Received your privacy complaint",
    "complaint.viewed": "Opened your privacy complaint",
    "complaint.reply": "Replied to your privacy complaint",
    "complaint.asked": "Asked you about your privacy complaint",
    "complaint.note": "Added an internal note to your privacy complaint",
    "complaint.added": "Added information to your privacy complaint",
    "complaint.resolved": "Resolved your privacy complaint",
    "complaint.reopened": "Reopened your privacy complaint",
}


def describe(action: str) -> str:
    return DESCRIPTIONS.get(action, action.replace(".", ": ").replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something and from where: the person (``None``: someone signed out, or the
    system) and their network (``/24``, ``/48``; ``None`` for the system). Built once per
    request (``actor`` dependency) and passed to the services that record events."""

    id: uuid.UUID | None
    network: str | None

    def as_user(self, user_id: uuid.UUID) -> Actor:
        """The same request, acting as the person it just identified (sign-up, sign-in)."""
        return replace(self, id=user_id)


#: A handler parameter: ``actor: ActorDep``.
ActorDep = NamedDependency[Actor]
#: Work nobody asked for in a request: the command line, the worker.
SYSTEM = Actor(None, None)


def record(
    session: AsyncSession,
    action: str,
    *,
    actor: Actor,
    subject_id: uuid.UUID | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event to ``session``; it commits (or rolls back) with the change it describes.

    ``details`` names what happened (fields, reasons), never values of personal data or
    secrets.
    """
    event = AuditEvent(
        action=action, actor_id=actor.id, subject_id=subject_id, ip_prefix=actor.network, details=details
    )
    session.add(event)
    return event
