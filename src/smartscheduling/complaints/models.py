"""Privacy complaints: what was complained of, by whom, when it counts as received, the
deadlines it started, and everything that happened to it since (its timeline)."""

from __future__ import annotations

import datetime
import enum
import uuid

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import AuditedModel, Model, NaturalKeyModel, text_enum, utcnow


class Channel(enum.StrEnum):
    """How the complaint reached us: the form, or recorded by staff from a letter or e-mail."""

    FORM = "form"
    EMAIL = "email"
    POST = "post"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    #: We asked the complainant for more; the first-response clock stops at the asking.
    WAITING = "waiting"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return {"open": "Open", "waiting": "Waiting for the complainant", "resolved": "Resolved"}[self.value]


class ComplaintNumber(NaturalKeyModel):
    """The last reference number given in a year: taken by one atomic upsert, so two
    complaints received at once never get the same number, and a rolled-back one none."""

    __tablename__ = "complaint_number"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Complaint(AuditedModel):
    """One privacy complaint. ``reference`` (``PC-2026-0042``: the year received and its
    number in that year) is what the complainant and staff quote. The first response is
    due ``respond_by`` (business days, ``smartscheduling.business_days``), resolution is
    aimed at ``resolve_by`` (calendar days); ``first_response_at`` stops the first clock."""

    __tablename__ = "complaint"
    __pii_columns__ = frozenset({"name", "email", "details", "outcome"})
    __table_args__ = (
        UniqueConstraint("year", "number", name="uq_complaint_year_number"),
        Index("ix_complaint_status_respond_by", "status", "respond_by"),
    )

    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    #: The complainant's account, when they complained signed in (``None`` after closure).
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    #: ``name``, ``email``, ``details`` and ``outcome`` are ``None`` once anonymized (see
    #: ``personal_data.py``): the record of how the complaint was handled stays.
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    details: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(text_enum(Channel, "complaint_channel"), default=Channel.FORM)
    #: When it actually reached us (for a letter: the day staff say it arrived).
    received_at: Mapped[datetime.datetime]
    #: The business day it counts as received (see ``business_days``).
    counts_from: Mapped[datetime.date] = mapped_column(Date)
    respond_by: Mapped[datetime.date] = mapped_column(Date)
    resolve_by: Mapped[datetime.date] = mapped_column(Date)
    first_response_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    status: Mapped[ComplaintStatus] = mapped_column(
        text_enum(ComplaintStatus, "complaint_status"), default=ComplaintStatus.OPEN
    )
    resolved_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    #: What the complainant was told when it was resolved.
    outcome: Mapped[str | None] = mapped_column(Text, default="")
    #: HMAC-SHA256 of the private link's token, keyed with ``SECRET_KEY`` (the link itself is
    #: only in the e-mail; a new secret key makes every private link invalid).
    link_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declaration style)

    @property
    def reference(self) -> str:
        return f"PC-{self.year}-{self.number:04d}"


class EventKind(enum.StrEnum):
    RECEIVED = "received"
    REPLY = "reply"
    NOTE = "note"
    ASKED = "asked"
    ADDED = "added"
    RESOLVED = "resolved"
    REOPENED = "reopened"


class ComplaintEvent(Model):
    """One step of a complaint's timeline: a reply or a question to the complainant, an
    internal note (``internal``: never shown to them), what they added, a resolution."""

    __tablename__ = "complaint_event"
    __pii_columns__ = frozenset({"body"})
    __table_args__ = (Index("ix_complaint_event_complaint_at", "complaint_id", "at"),)

    complaint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    #: The complainant's account (the complaint's), so that the registry finds their timeline.
    complainant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    kind: Mapped[EventKind] = mapped_column(text_enum(EventKind, "complaint_event_kind"))
    #: ``None`` once the complainant's data is erased.
    body: Mapped[str | None] = mapped_column(Text, default="")
    #: Who did it: a staff member, the complainant's account, or ``None`` (signed out, or gone).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    internal: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
