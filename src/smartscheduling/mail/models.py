"""The transactional outbox: an e-mail is a row written in the same transaction as the
change that causes it; the worker delivers it later. A crash can delay an e-mail, never
lose it."""

from __future__ import annotations

import datetime
import enum
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import AuditedModel, text_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(AuditedModel):
    """Recipient and bodies are erased once the message is delivered: the outbox does not
    keep personal data longer than it needs to send it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_campaign_status", "campaign_id", "status"),
    )

    kind: Mapped[str] = mapped_column(String(64))
    #: Whom it concerns (for the user's export and erasure); NULL once they are gone.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    #: An iCalendar file sent with it (an appointment), erased with the bodies.
    calendar: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[OutboxStatus] = mapped_column(
        text_enum(OutboxStatus, "outbox_status", length=16),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    #: A worker holds the row until then; after a crash another worker takes it over.
    locked_until: Mapped[datetime.datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    sent_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    #: At most one message per key (e.g. one policy-change notice per user and version).
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    #: The policy-change mailing it belongs to (progress is counted from these rows).
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("policy_campaign.id", ondelete="SET NULL"), default=None
    )
