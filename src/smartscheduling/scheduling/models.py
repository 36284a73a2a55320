"""The business the deployment serves (one per deployment), its booking rules, and the
services it offers ("offerings": the code's own layer is called services)."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.config import SITE_NAME
from smartscheduling.db import AuditedModel, NaturalKeyModel, utcnow

#: The one row's key: a deployment serves one business.
THE_BUSINESS = 1


class Business(NaturalKeyModel):
    """Name, time zone, where it is (its public holidays) and the rules every booking
    follows. Admins edit it at ``/staff/settings``; every change is audited."""

    __tablename__ = "business"
    __table_args__ = (
        CheckConstraint(f"id = {THE_BUSINESS}", name="one_row"),
        CheckConstraint("slot_step_minutes BETWEEN 5 AND 60", name="slot_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=THE_BUSINESS)
    name: Mapped[str] = mapped_column(String(120))
    #: IANA name: wall-clock rules (hours, closed days, the slot grid) are in this zone.
    time_zone: Mapped[str] = mapped_column(String(64))
    #: ISO 3166 code and subdivision: which public holidays close the business.
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    subdivision: Mapped[str | None] = mapped_column(String(10), default=None)
    slot_step_minutes: Mapped[int] = mapped_column(Integer, default=15)
    notice_minutes: Mapped[int] = mapped_column(Integer, default=120)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    #: Clients cancel or reschedule online until this many hours before the appointment.
    cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)
    reminder_hours: Mapped[int] = mapped_column(Integer, default=24)
    #: ISO 4217 code of the prices.
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    #: How clients reach the business (shown where a change is no longer possible online).
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declaration style)

    @classmethod
    def defaults(cls) -> Business:
        """The business before an administrator first saves its settings (not stored)."""
        return cls(
            id=THE_BUSINESS, name=SITE_NAME, time_zone="UTC", slot_step_minutes=15, notice_minutes=120,
            horizon_days=60, cutoff_hours=24, reminder_hours=24, currency="EUR", version=1,
        )  # fmt: skip


class Offering(AuditedModel):
    """What a client books: how long it takes, what it costs, the time kept free around it
    and who performs it. Archived, never deleted: appointments will point to it."""

    __tablename__ = "offering"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration"),
        CheckConstraint("price_cents >= 0", name="price"),
        CheckConstraint("buffer_before_minutes BETWEEN 0 AND 120 AND buffer_after_minutes BETWEEN 0 AND 120",
                        name="buffers"),
    )  # fmt: skip

    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    #: In the business's currency's smallest unit (cents): prices add up exactly.
    price_cents: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when archived: no longer offered for booking, kept for the appointments it has.
    archived_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declaration style)


class OfferingStaff(NaturalKeyModel):
    """Which staff member performs which offering."""

    __tablename__ = "offering_staff"

    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BusinessDay(NaturalKeyModel):
    """A day that differs from the default: a public holiday the business opens on
    (``closed`` false), or another day it is closed (``closed`` true, with a note)."""

    __tablename__ = "business_day"

    day: Mapped[datetime.date] = mapped_column(Date, primary_key=True)
    closed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(120), default="")


class WorkingHours(NaturalKeyModel):
    """One interval of a staff member's usual week, in the business's wall-clock time
    (minutes after midnight); the gaps between a day's intervals are breaks."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440", name="interval"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    #: 0 = Monday.
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_minute: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_minute: Mapped[int] = mapped_column(Integer)
