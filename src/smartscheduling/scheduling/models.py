"""The business the deployment serves (one per deployment), its booking rules, the
services it offers ("offerings": the code's own layer is called services), its staff's
hours and the appointments clients book."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.config import SITE_NAME
from smartscheduling.db import AuditedModel, JsonDocument, NaturalKeyModel, text_enum, utcnow

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

    def local_date(self, instant: datetime.datetime) -> datetime.date:
        """The business's calendar day at ``instant`` (its rules go by its own days)."""
        return instant.astimezone(ZoneInfo(self.time_zone)).date()

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


class StaffProfile(NaturalKeyModel):
    """How a staff member appears to clients when they book: the name they go by and a
    few words about them. Without one, clients see the account's name."""

    __tablename__ = "staff_profile"
    __pii_columns__ = frozenset({"display_name", "bio"})

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(60))
    bio: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @classmethod
    def name_of(cls, person: Any) -> ColumnElement[str]:
        """A staff member's name as clients and colleagues see it: their profile's, else
        their account's (``person``: the user entity or alias, ``StaffProfile`` joined)."""
        return func.coalesce(cls.display_name, person.name)


class ExceptionKind(enum.StrEnum):
    TIME_OFF = "time_off"
    EXTRA_HOURS = "extra_hours"


class StaffException(AuditedModel):
    """A change to a staff member's usual week, in the business's wall-clock time: time
    off (whole days ``first_day`` to ``last_day``, or part of one day) or extra hours on
    one day. Staff add their own time off; administrators anyone's, and extra hours."""

    __tablename__ = "staff_exception"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="days"),
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (first_day = last_day AND start_minute >= 0 "
            "AND start_minute < end_minute AND end_minute <= 1440)",
            name="hours",
        ),
        CheckConstraint("kind <> 'extra_hours' OR start_minute IS NOT NULL", name="extra_hours_have_hours"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ExceptionKind] = mapped_column(text_enum(ExceptionKind, "exception_kind"))
    first_day: Mapped[datetime.date] = mapped_column(Date)
    last_day: Mapped[datetime.date] = mapped_column(Date)
    #: Minutes after midnight; both ``None``: the whole days.
    start_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    end_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(String(120), default="")


class AppointmentStatus(enum.StrEnum):
    """Booked, then (marked by staff) arrived and completed, or a no-show; or cancelled.
    Every status but cancelled keeps the staff member's time taken."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


class Appointment(AuditedModel):
    """A client's booking of an offering with a staff member. Times are instants in UTC;
    ``occupied_from``/``occupied_until`` add the offering's buffers as they were when it
    was booked. A staff member's appointments that are not cancelled never overlap: on PostgreSQL an
    exclusion constraint says so (``btree_gist``), on SQLite the booking checks and
    inserts in one ``BEGIN IMMEDIATE`` transaction (``scheduling.booking``).

    A cancelled appointment keeps its row: who cancelled it and when. The client and
    staff are people (user rows; a client known only to staff is one too), so closing
    either's account anonymizes the row and the business keeps its figures."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(
            "occupied_from <= starts_at AND starts_at < ends_at AND ends_at <= occupied_until", name="times"
        ),
        CheckConstraint("price_cents >= 0", name="price"),
        Index("ix_appointment_staff_id_occupied_from", "staff_id", "occupied_from"),
        Index("ix_appointment_starts_at", "starts_at"),  # the figures and the day view: a range of time
        ExcludeConstraint(
            ("staff_id", "="),
            (func.tstzrange(literal_column("occupied_from"), literal_column("occupied_until"), "[)"), "&&"),
            using="gist",
            where="status <> 'cancelled'",
            name="appointment_no_overlap",
        ).ddl_if(dialect="postgresql"),
    )

    #: Who booked it; ``None`` once their account is closed (anonymized).
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    #: Who performs it; ``None`` once their account is closed.
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offering.id"), index=True)
    starts_at: Mapped[datetime.datetime]
    ends_at: Mapped[datetime.datetime]
    occupied_from: Mapped[datetime.datetime]
    occupied_until: Mapped[datetime.datetime]
    #: What it cost when booked, in the currency's smallest unit.
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[AppointmentStatus] = mapped_column(
        text_enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.BOOKED
    )
    cancelled_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    #: The calendar file's SEQUENCE: raised by each change the client is told of.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    #: Each move, oldest first: ``{"at", "from", "to", "by"}`` (UTC ISO instants; ``by``
    #: is ``client`` or ``staff``): a reschedule keeps the appointment and says so.
    history: Mapped[list[dict[str, str]]] = mapped_column(JsonDocument, default=list)
    #: The start time the reminder was sent for: one reminder per appointment time.
    reminded_for: Mapped[datetime.datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declaration style)
