"""Policy documents: numbered, immutable published versions and editable drafts; the
mailing that tells every user about a significant change."""

from __future__ import annotations

import datetime
import enum
import uuid

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import AuditedModel, Model, text_enum, utcnow


class PolicyKind(enum.StrEnum):
    PRIVACY = "privacy"
    COOKIES = "cookies"
    TERMS = "terms"

    @property
    def label(self) -> str:
        return {"privacy": "Privacy policy", "cookies": "Cookie policy", "terms": "Terms of service"}[self.value]

    @property
    def path(self) -> str:
        """Where the latest version is published; ``/history``, ``/v/<n>`` and ``/diff`` hang below."""
        return {"privacy": "/privacy", "cookies": "/cookies/policy", "terms": "/terms"}[self.value]


class PolicyVersion(AuditedModel):
    """A draft (``number`` and ``published_at`` empty, editable) or a published version
    (numbered per kind, never changed again: the service only ever updates drafts, and
    publishing is one conditional ``UPDATE … WHERE published_at IS NULL``)."""

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("kind", "number", name="uq_policy_version_kind_number"),
        Index("ix_policy_version_kind_published", "kind", "published_at"),
    )

    kind: Mapped[PolicyKind] = mapped_column(text_enum(PolicyKind, "policy_kind", length=16))
    number: Mapped[int | None] = mapped_column(Integer, default=None)
    text: Mapped[str] = mapped_column(Text)
    #: What changed, in a few sentences for readers (shown in the history and the e-mail).
    summary: Mapped[str] = mapped_column(String(1000), default="")
    #: A significant change is e-mailed to every user and shown until acknowledged.
    significant: Mapped[bool] = mapped_column(Boolean, default=False)
    effective_on: Mapped[datetime.date | None] = mapped_column(default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    published_at: Mapped[datetime.datetime | None] = mapped_column(default=None)

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class PolicyCampaign(AuditedModel):
    """The e-mail to every active user about one significant version (at most one per
    version: ``version_id`` is unique). The worker writes it to the outbox in batches,
    in user-id order from ``cursor``; each message's ``dedupe_key`` (unique) names the
    version and the user, so a batch written twice sends nobody a second e-mail."""

    __tablename__ = "policy_campaign"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_version.id", ondelete="CASCADE"), unique=True)
    #: Active users when it started: those who had an account before publication.
    total: Mapped[int] = mapped_column(Integer)
    #: Accounts created after this moment accepted the new version at sign-up.
    cutoff: Mapped[datetime.datetime] = mapped_column()
    #: The last user id written to the outbox; the next batch starts after it.
    cursor: Mapped[uuid.UUID | None] = mapped_column(default=None)
    enqueued: Mapped[int] = mapped_column(Integer, default=0)
    #: Set once every message is in the outbox.
    enqueued_at: Mapped[datetime.datetime | None] = mapped_column(default=None)


class PolicyAcknowledgement(Model):
    """Proof that a user accepted or acknowledged a published text, and when.

    ``document`` is ``privacy`` (the policy, at sign-up or after a change) or
    ``us_transfer`` (the notice that data is stored in the U.S., for non-U.S. users).
    """

    __tablename__ = "policy_acknowledgement"
    __table_args__ = (Index("ix_policy_acknowledgement_user_document", "user_id", "document"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    document: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    context: Mapped[str] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
