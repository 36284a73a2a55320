"""Privacy complaints, from receipt to resolution: the reference, the clocks, the
acknowledgement, and every step on the timeline. Each public method is one unit of
work: the change, its audit event and its e-mail commit together or not at all."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from smartscheduling.accounts.models import User
from smartscheduling.audit.service import Actor, record
from smartscheduling.business_days import BusinessCalendar
from smartscheduling.complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    ComplaintNumber,
    ComplaintStatus,
    EventKind,
)
from smartscheduling.config import Settings
from smartscheduling.db import upsert_insert
from smartscheduling.mail.outbox import enqueue
from smartscheduling.refusals import Refusal, RefusedError

#: The policy's promise: "We will respond to your complaint within 10 business days and
#: aim to resolve it within 25 days".
RESPOND_WITHIN_BUSINESS_DAYS = 10
RESOLVE_WITHIN = datetime.timedelta(days=25)


class StaleComplaintError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "Someone else changed this complaint meanwhile: here it is as it is now. Nothing was saved."


class AlreadyResolvedError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "This complaint is resolved: reopen it first."


class NotResolvedError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "This complaint is not resolved: there is nothing to reopen."


class ErasedComplaintError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "The complainant's data is erased: there is nobody to write to any more."


class FutureReceiptError(RefusedError):
    field = "received_on"
    sentence = "A complaint cannot be received in the future: give the day it came."


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """What the complainant tells us (checked by the form's schema)."""

    name: str
    email: str
    details: str


@dataclass(frozen=True, slots=True)
class Received:
    """A complaint just stored, and the private link's token (only ever in the e-mail)."""

    complaint: Complaint
    token: str


#: Flagged in the queue: a deadline this many business days away or fewer.
DUE_SOON_BUSINESS_DAYS = 2
#: The queue shows this many complaints at most, the most urgent first.
QUEUE_LENGTH = 100


@dataclass(frozen=True, slots=True)
class QueueRow:
    complaint: Complaint
    #: The next deadline: the first response until one is given, then resolution.
    deadline: datetime.date
    first_response: bool
    overdue: bool
    due_soon: bool


@dataclass(frozen=True, slots=True)
class Queue:
    rows: list[QueueRow]
    #: Complaints in the view shown (``rows`` stops at ``QUEUE_LENGTH``).
    total: int
    counts: dict[str, int]


def next_deadline() -> Any:
    """SQL: a complaint's next deadline (the first response's until it is given)."""
    return case((Complaint.first_response_at.is_(None), Complaint.respond_by), else_=Complaint.resolve_by)


class ComplaintService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def _digest(self, token: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), f"complaint:{token}".encode(), hashlib.sha256).hexdigest()

    def link(self, token: str) -> str:
        return f"{self.settings.base_url}/privacy/complaints/follow/{token}"

    async def _next_number(self, year: int) -> int:
        """The year's next reference number (the row stays locked until this unit of work ends)."""
        insert = upsert_insert(self.session.get_bind())(ComplaintNumber)
        statement = (
            insert.values(year=year, last=1)
            .on_conflict_do_update(index_elements=["year"], set_={"last": ComplaintNumber.last + 1})
            .returning(ComplaintNumber.last)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def receive(
        self,
        new: NewComplaint,
        *,
        calendar: BusinessCalendar,
        received_at: datetime.datetime,
        actor: Actor,
        user: User | None = None,
        channel: Channel = Channel.FORM,
    ) -> Received:
        """Store a complaint received at ``received_at`` (now, for the form; the day a
        letter arrived, for staff), start its clocks and acknowledge it by e-mail."""
        token = secrets.token_urlsafe(32)
        counts_from = calendar.counts_from(received_at)
        complaint = Complaint(
            year=received_at.astimezone(calendar.zone).year,
            user_id=user.id if user else None,
            name=new.name,
            email=new.email,
            details=new.details,
            channel=channel,
            received_at=received_at,
            counts_from=counts_from,
            respond_by=calendar.deadline(received_at, RESPOND_WITHIN_BUSINESS_DAYS),
            resolve_by=received_at.astimezone(calendar.zone).date() + RESOLVE_WITHIN,
            link_digest=self._digest(token),
        )
        complaint.number = await self._next_number(complaint.year)
        self.session.add(complaint)
        await self.session.flush()
        self.session.add(
            ComplaintEvent(complaint_id=complaint.id, complainant_id=complaint.user_id, kind=EventKind.RECEIVED,
                           actor_id=actor.id, at=received_at)
        )  # fmt: skip
        record(self.session, "complaint.received", actor=actor, subject_id=complaint.user_id,
               complaint=complaint.reference, channel=channel.value)  # fmt: skip
        self._tell(complaint, "complaint_received", link=self.link(token), zone=calendar.zone.key)
        await self.session.commit()
        return Received(complaint, token)

    async def record_received(
        self, new: NewComplaint, *, received_on: datetime.date, channel: Channel, calendar: BusinessCalendar,
        now: datetime.datetime, actor: Actor,
    ) -> Received:  # fmt: skip
        """A complaint that came by e-mail or letter on ``received_on``: its clocks start
        that day, whenever staff record it (it counts as received at noon there)."""
        if received_on > now.astimezone(calendar.zone).date():
            raise FutureReceiptError
        received_at = datetime.datetime.combine(received_on, datetime.time(12), tzinfo=calendar.zone)
        return await self.receive(new, calendar=calendar, received_at=received_at, actor=actor, channel=channel)

    def _tell(self, complaint: Complaint, kind: str, **context: object) -> None:
        enqueue(
            self.session, kind, to=complaint.email, user_id=complaint.user_id,
            context={"name": complaint.name, "reference": complaint.reference, "respond_by": complaint.respond_by,
                     "resolve_by": complaint.resolve_by, **context},
        )  # fmt: skip

    async def get(self, complaint_id: uuid.UUID) -> Complaint | None:
        return await self.session.get(Complaint, complaint_id)

    async def by_link(self, token: str) -> Complaint | None:
        """The complaint behind a private link (``None``: no such link)."""
        return await self.session.scalar(select(Complaint).where(Complaint.link_digest == self._digest(token)))

    async def of(self, user_id: uuid.UUID) -> Sequence[Complaint]:
        """A signed-in person's complaints, newest first."""
        statement = select(Complaint).where(Complaint.user_id == user_id).order_by(Complaint.received_at.desc())
        return (await self.session.scalars(statement)).all()

    async def queue(self, calendar: BusinessCalendar, *, today: datetime.date, status: ComplaintStatus | None) -> Queue:
        """Unresolved complaints by their next deadline (``status``: only those; resolved
        ones newest first), with the counts of each status and of the flags."""
        deadline = next_deadline().label("deadline")
        soon = calendar.add(today, DUE_SOON_BUSINESS_DAYS)
        unresolved = Complaint.status != ComplaintStatus.RESOLVED
        counted = select(
            func.count().filter(Complaint.status == ComplaintStatus.OPEN),
            func.count().filter(Complaint.status == ComplaintStatus.WAITING),
            func.count().filter(Complaint.status == ComplaintStatus.RESOLVED),
            func.count().filter(unresolved, next_deadline() < today),
            func.count().filter(unresolved, next_deadline() >= today, next_deadline() <= soon),
        )
        open_, waiting, resolved, overdue, due_soon = (await self.session.execute(counted)).one()
        counts = {"open": open_, "waiting": waiting, "resolved": resolved, "overdue": overdue, "due_soon": due_soon}
        statement = select(Complaint, deadline)
        if status is ComplaintStatus.RESOLVED:
            statement = statement.where(Complaint.status == status).order_by(Complaint.resolved_at.desc())
            total = resolved
        else:
            shown = Complaint.status == status if status else unresolved
            statement = statement.where(shown).order_by(deadline, Complaint.received_at)
            total = {None: open_ + waiting, ComplaintStatus.OPEN: open_, ComplaintStatus.WAITING: waiting}[status]
        rows = [
            QueueRow(
                complaint, day, first_response=complaint.first_response_at is None,
                overdue=complaint.status is not ComplaintStatus.RESOLVED and day < today,
                due_soon=complaint.status is not ComplaintStatus.RESOLVED and today <= day <= soon,
            )
            for complaint, day in (await self.session.execute(statement.limit(QUEUE_LENGTH))).all()
        ]  # fmt: skip
        return Queue(rows, total, counts)

    async def viewed(self, complaint: Complaint, *, actor: Actor) -> None:
        """Staff opened the complaint: in the complainant's access log."""
        record(self.session, "complaint.viewed", actor=actor, subject_id=complaint.user_id,
               complaint=complaint.reference)  # fmt: skip
        await self.session.commit()

    async def timeline(self, complaint: Complaint, *, internal: bool) -> Sequence[ComplaintEvent]:
        """What happened, oldest first; ``internal``: with staff's notes (never for the complainant)."""
        statement = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
        if not internal:
            statement = statement.where(ComplaintEvent.internal.is_(False))
        return (await self.session.scalars(statement.order_by(ComplaintEvent.at, ComplaintEvent.id))).all()

    async def _save(self) -> None:
        try:
            await self.session.commit()
        except StaleDataError:  # changed between this request's read and its write
            await self.session.rollback()
            raise StaleComplaintError from None

    def _event(
        self, complaint: Complaint, kind: EventKind, body: str, *, actor: Actor, now: datetime.datetime,
        internal: bool = False,
    ) -> None:  # fmt: skip
        """A step on the timeline, audited; the complaint's version rises with it, so a
        form opened before it is refused."""
        complaint.updated_at = now
        self.session.add(
            ComplaintEvent(complaint_id=complaint.id, complainant_id=complaint.user_id, kind=kind, body=body,
                           actor_id=actor.id, internal=internal, at=now)
        )  # fmt: skip
        record(self.session, f"complaint.{kind.value}", actor=actor, subject_id=complaint.user_id,
               complaint=complaint.reference)  # fmt: skip

    @staticmethod
    def _current(complaint: Complaint, version: int) -> None:
        if version != complaint.version:
            raise StaleComplaintError

    @staticmethod
    def _reachable(complaint: Complaint) -> None:
        """Only a complainant whose address we still hold can be written to."""
        if not complaint.email:
            raise ErasedComplaintError

    async def answer(
        self, complaint: Complaint, body: str, *, ask: bool, version: int, actor: Actor, now: datetime.datetime
    ) -> None:
        """Reply to the complainant (``ask``: asking them for more information). The first
        reply stops the first-response clock; asking also waits for their answer."""
        self._current(complaint, version)
        self._reachable(complaint)
        if complaint.status is ComplaintStatus.RESOLVED:
            raise AlreadyResolvedError
        if complaint.first_response_at is None:
            complaint.first_response_at = now
        if ask:
            complaint.status = ComplaintStatus.WAITING
        self._event(complaint, EventKind.ASKED if ask else EventKind.REPLY, body, actor=actor, now=now)
        self._tell(complaint, "complaint_reply", body=body, ask=ask)
        await self._save()

    async def note(
        self, complaint: Complaint, body: str, *, version: int, actor: Actor, now: datetime.datetime
    ) -> None:
        """An internal note: on the staff's timeline only."""
        self._current(complaint, version)
        self._event(complaint, EventKind.NOTE, body, actor=actor, now=now, internal=True)
        await self._save()

    async def resolve(
        self, complaint: Complaint, outcome: str, *, version: int, actor: Actor, now: datetime.datetime
    ) -> None:
        """Resolve it with an outcome, which the complainant is told."""
        self._current(complaint, version)
        self._reachable(complaint)
        if complaint.status is ComplaintStatus.RESOLVED:
            raise AlreadyResolvedError
        complaint.status, complaint.outcome, complaint.resolved_at = ComplaintStatus.RESOLVED, outcome, now
        if complaint.first_response_at is None:
            complaint.first_response_at = now
        self._event(complaint, EventKind.RESOLVED, outcome, actor=actor, now=now)
        self._tell(complaint, "complaint_resolved", outcome=outcome)
        await self._save()

    async def reopen(
        self, complaint: Complaint, reason: str, *, version: int, actor: Actor, now: datetime.datetime
    ) -> None:
        """Open a resolved complaint again (internal: the reason is on the staff's timeline)."""
        self._current(complaint, version)
        if complaint.status is not ComplaintStatus.RESOLVED:
            raise NotResolvedError
        complaint.status, complaint.resolved_at, complaint.outcome = ComplaintStatus.OPEN, None, ""
        self._event(complaint, EventKind.REOPENED, reason, actor=actor, now=now, internal=True)
        await self._save()

    async def add(self, complaint: Complaint, body: str, *, actor: Actor, now: datetime.datetime) -> None:
        """The complainant adds information (signed in, or through their private link):
        a complaint waiting for them is open again, and so is a resolved one (they are
        not satisfied, as the resolution e-mail invites them to say)."""
        if complaint.status is ComplaintStatus.RESOLVED:
            complaint.status, complaint.resolved_at, complaint.outcome = ComplaintStatus.OPEN, None, ""
            self._event(complaint, EventKind.REOPENED, "The complainant wrote after the resolution.", actor=actor,
                        now=now, internal=True)  # fmt: skip
        elif complaint.status is ComplaintStatus.WAITING:
            complaint.status = ComplaintStatus.OPEN
        self._event(complaint, EventKind.ADDED, body, actor=actor, now=now)
        await self._save()
