"""Audit events: who did what to whose data, and when. Append-only."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import JsonDocument, Model, utcnow


class AuditEvent(Model):
    """One event. ``actor_id`` did ``action``; ``subject_id`` is the person whose data it
    concerns. Neither holds anything but a user reference: when a user is deleted the
    references become NULL and the event stays as an anonymous statistic.

    ``details`` names things (which fields changed, a reason), never their values or
    secrets. ``ip_prefix`` is the client's network, truncated (/24 or /48), never the
    full address.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject_occurred", "subject_id", "occurred_at"),)

    occurred_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    subject_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    ip_prefix: Mapped[str | None] = mapped_column(String(49), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
