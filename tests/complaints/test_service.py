"""Complaints from receipt to resolution, on both databases: the reference, the clocks,
the acknowledgement, the private link, each step of the timeline, and refusals that
change nothing."""

from __future__ import annotations

import asyncio
import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor
from smartscheduling.business_days import BusinessCalendar
from smartscheduling.complaints.models import Channel, Complaint, ComplaintEvent, ComplaintStatus, EventKind
from smartscheduling.complaints.services import (
    AlreadyResolvedError,
    ComplaintService,
    NewComplaint,
    NotResolvedError,
    StaleComplaintError,
)
from smartscheduling.config import Settings
from smartscheduling.mail.models import OutboxMessage

BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = BusinessCalendar(BERLIN, "DE", "BE")
#: Friday 18 December 2026, 10:00 in Berlin: the first response is due after Christmas.
FRIDAY = datetime.datetime(2026, 12, 18, 10, tzinfo=BERLIN)
NEW = NewComplaint("Pia Plaintiff", "pia@example.com", "My reminder went to someone else.")
NOBODY = Actor(None, "192.0.2.0/24")


def session_of(engine: AsyncEngine) -> AsyncSession:
    return AsyncSession(engine, expire_on_commit=False)


@pytest.fixture
async def desk(make_user) -> Actor:
    """A privacy officer at work."""
    officer = await make_user(name="Olga Officer")
    return Actor(officer.id, "198.51.100.0/24")


async def test_a_complaint_gets_a_reference_its_deadlines_and_an_acknowledgement(
    db_engine: AsyncEngine, settings: Settings
) -> None:
    async with session_of(db_engine) as session:
        complaints = ComplaintService(session, settings)
        first = await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)
        second = await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)
    assert (first.complaint.reference, second.complaint.reference) == ("PC-2026-0001", "PC-2026-0002")
    complaint = first.complaint
    assert (complaint.counts_from, complaint.respond_by, complaint.resolve_by) == (
        datetime.date(2026, 12, 18),
        datetime.date(2027, 1, 5),  # ten business days: 25, 26 December and 1 January are holidays
        datetime.date(2027, 1, 12),  # 25 calendar days
    )
    assert (complaint.status, complaint.channel, complaint.first_response_at) == (
        ComplaintStatus.OPEN,
        Channel.FORM,
        None,
    )
    async with session_of(db_engine) as session:
        mail = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
        stored = await session.get_one(Complaint, complaint.id)
        events = (await session.scalars(select(ComplaintEvent.kind))).all()
        audited = (await session.scalars(select(AuditEvent.action))).all()
    assert [m.to_address for m in mail] == ["pia@example.com"] * 2
    assert mail[0].subject == "Your privacy complaint PC-2026-0001 is received"
    assert "First response by: Tuesday 5 January 2027 (10 business days)" in mail[0].body_text
    assert "Resolution aimed at by: Tuesday 12 January 2027 (25 days)" in mail[0].body_text
    assert f"{settings.base_url}/privacy/complaints/follow/{first.token}" in mail[0].body_text
    assert first.token not in (stored.link_digest or "")  # only a digest of the link is kept
    assert events == [EventKind.RECEIVED, EventKind.RECEIVED]
    assert audited == ["complaint.received", "complaint.received"]


async def test_the_private_link_finds_its_complaint_and_no_other(db_engine: AsyncEngine, settings: Settings) -> None:
    async with session_of(db_engine) as session:
        complaints = ComplaintService(session, settings)
        mine = await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)
        theirs = await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)
        found = await complaints.by_link(mine.token)
        assert found is not None
        assert found.id == mine.complaint.id != theirs.complaint.id
        assert await complaints.by_link(mine.token[:-1]) is None
        assert await complaints.by_link("") is None


async def test_references_count_by_the_business_s_year(db_engine: AsyncEngine, settings: Settings) -> None:
    new_year_in_berlin = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)  # 00:30 on 1 January
    async with session_of(db_engine) as session:
        complaints = ComplaintService(session, settings)
        late = await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)
        early = await complaints.receive(NEW, calendar=CALENDAR, received_at=new_year_in_berlin, actor=NOBODY)
    assert (late.complaint.reference, early.complaint.reference) == ("PC-2026-0001", "PC-2027-0001")
    assert early.complaint.counts_from == datetime.date(2027, 1, 4)  # a holiday, then a weekend


async def test_complaints_received_at_once_get_different_numbers(db_engine: AsyncEngine, settings: Settings) -> None:
    async def one() -> str:
        async with session_of(db_engine) as session:
            received = await ComplaintService(session, settings).receive(
                NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY
            )
            return received.complaint.reference

    references = await asyncio.gather(*(one() for _ in range(6)))
    assert sorted(references) == [f"PC-2026-{n:04d}" for n in range(1, 7)]


async def test_a_letter_s_clocks_start_when_it_arrived(db_engine: AsyncEngine, settings: Settings) -> None:
    arrived = datetime.datetime(2026, 12, 24, 18, tzinfo=BERLIN)  # after the close of business, before Christmas
    async with session_of(db_engine) as session:
        received = await ComplaintService(session, settings).receive(
            NEW, calendar=CALENDAR, received_at=arrived, actor=Actor(None, None), channel=Channel.POST
        )
    complaint = received.complaint
    assert (complaint.channel, complaint.received_at, complaint.counts_from, complaint.respond_by) == (
        Channel.POST,
        arrived,
        datetime.date(2026, 12, 28),
        datetime.date(2027, 1, 12),
    )


async def test_replies_questions_additions_and_resolution(
    db_engine: AsyncEngine, settings: Settings, desk: Actor
) -> None:
    later = FRIDAY + datetime.timedelta(days=3)
    then = later + datetime.timedelta(days=1)
    async with session_of(db_engine) as session:
        complaints = ComplaintService(session, settings)
        complaint = (await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)).complaint
        await complaints.note(complaint, "Check the reminder log.", version=complaint.version, actor=desk, now=later)
        assert complaint.first_response_at is None  # a note is no response
        await complaints.answer(
            complaint, "Which appointment was it?", ask=True, version=complaint.version, actor=desk, now=later
        )
        assert (complaint.status, complaint.first_response_at) == (ComplaintStatus.WAITING, later)
        await complaints.add(complaint, "The one on 14 December.", actor=NOBODY, now=later)
        assert complaint.status is ComplaintStatus.OPEN
        await complaints.answer(
            complaint, "Thank you: we found it.", ask=False, version=complaint.version, actor=desk, now=then
        )
        assert complaint.first_response_at == later  # the first response stopped the clock; it stays stopped
        await complaints.resolve(
            complaint, "The address is corrected.", version=complaint.version, actor=desk, now=then
        )
        assert (complaint.status, complaint.outcome, complaint.resolved_at) == (
            ComplaintStatus.RESOLVED,
            "The address is corrected.",
            then,
        )
        with pytest.raises(AlreadyResolvedError):
            await complaints.answer(complaint, "More.", ask=False, version=complaint.version, actor=desk, now=then)
        await complaints.reopen(complaint, "She wrote again.", version=complaint.version, actor=desk, now=then)
        assert (complaint.status, complaint.resolved_at) == (ComplaintStatus.OPEN, None)
        with pytest.raises(NotResolvedError):
            await complaints.reopen(complaint, "Again.", version=complaint.version, actor=desk, now=then)
        seen_by_her = [(e.kind, e.body) for e in await complaints.timeline(complaint, internal=False)]
        seen_by_staff = [e.kind for e in await complaints.timeline(complaint, internal=True)]
    assert seen_by_her == [
        (EventKind.RECEIVED, ""),
        (EventKind.ASKED, "Which appointment was it?"),
        (EventKind.ADDED, "The one on 14 December."),
        (EventKind.REPLY, "Thank you: we found it."),
        (EventKind.RESOLVED, "The address is corrected."),
    ]
    assert EventKind.NOTE in seen_by_staff
    assert EventKind.REOPENED in seen_by_staff
    async with session_of(db_engine) as session:
        subjects = (await session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.created_at))).all()
        audited = (await session.scalars(select(AuditEvent.action).order_by(AuditEvent.occurred_at))).all()
    assert subjects == [
        "Your privacy complaint PC-2026-0001 is received",
        "We need more information about your privacy complaint PC-2026-0001",
        "Our reply to your privacy complaint PC-2026-0001",
        "Your privacy complaint PC-2026-0001 is resolved",
    ]
    assert audited == [
        "complaint.received", "complaint.note", "complaint.asked", "complaint.added", "complaint.reply",
        "complaint.resolved", "complaint.reopened",
    ]  # fmt: skip


async def test_a_step_made_on_an_older_version_is_refused_and_changes_nothing(
    db_engine: AsyncEngine, settings: Settings, desk: Actor
) -> None:
    async with session_of(db_engine) as session:
        complaints = ComplaintService(session, settings)
        complaint = (await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)).complaint
        opened_at = complaint.version
        await complaints.note(complaint, "First look.", version=opened_at, actor=desk, now=FRIDAY)
        with pytest.raises(StaleComplaintError):  # another tablet's form, opened before the note
            await complaints.resolve(complaint, "Done.", version=opened_at, actor=desk, now=FRIDAY)
    async with session_of(db_engine) as session:
        stored = await session.get_one(Complaint, complaint.id)
        events = await session.scalar(select(func.count()).select_from(ComplaintEvent))
        mail = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert (stored.status, stored.outcome, events, mail) == (ComplaintStatus.OPEN, "", 2, 1)


async def test_writing_after_the_resolution_opens_the_complaint_again(
    db_engine: AsyncEngine, settings: Settings, desk: Actor
) -> None:
    async with session_of(db_engine) as session:
        complaints = ComplaintService(session, settings)
        complaint = (await complaints.receive(NEW, calendar=CALENDAR, received_at=FRIDAY, actor=NOBODY)).complaint
        await complaints.resolve(complaint, "Corrected.", version=complaint.version, actor=desk, now=FRIDAY)
        await complaints.add(complaint, "It happened again.", actor=NOBODY, now=FRIDAY)
        assert (complaint.status, complaint.resolved_at, complaint.outcome) == (ComplaintStatus.OPEN, None, "")
        staff_sees = [(e.kind, e.internal) for e in await complaints.timeline(complaint, internal=True)]
    assert staff_sees[-2:] == [(EventKind.REOPENED, True), (EventKind.ADDED, False)]
