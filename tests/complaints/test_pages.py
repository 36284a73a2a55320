"""The complaint pages over HTTP, on both databases: the form signed out and in, the
private page, a person's own complaints, and the privacy officer's queue and steps."""

from __future__ import annotations

import datetime
import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.app import create_app
from smartscheduling.audit.service import Actor
from smartscheduling.complaints.models import Complaint, ComplaintEvent, ComplaintStatus, EventKind
from smartscheduling.complaints.services import ComplaintService, NewComplaint, Received
from smartscheduling.config import Settings
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.scheduling.models import Business
from tests.complaints.test_service import BERLIN, CALENDAR, FRIDAY
from tests.helpers import field_errors, form_error, post_form, sign_in

#: The clock of these tests: Friday 18 December 2026, 10:00 in Berlin.
NOW = FRIDAY.astimezone(datetime.UTC)
DETAILS = "My reminder for 14 December went to someone else's address."


@pytest.fixture
async def client(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncSession(db_engine) as session:
        business = Business.defaults()
        business.time_zone, business.country, business.subdivision = "Europe/Berlin", "DE", "BE"
        session.add(business)
        await session.commit()
    app = create_app(settings, clock=lambda: NOW)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


async def complaint_of(engine: AsyncEngine) -> Complaint:
    async with AsyncSession(engine) as session:
        return (await session.scalars(select(Complaint))).one()


async def receive(
    engine: AsyncEngine, settings: Settings, when: datetime.datetime = NOW, name: str = "Pia Plaintiff", *,
    user: User | None = None,
) -> Received:  # fmt: skip
    """A complaint received at ``when`` (from ``user``'s account, if given), and its private link's token."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return await ComplaintService(session, settings).receive(
            NewComplaint(name, user.email if user else "pia@example.com", DETAILS), calendar=CALENDAR,
            received_at=when, actor=Actor(user.id if user else None, None), user=user,
        )  # fmt: skip


async def test_a_visitor_complains_and_lands_on_the_private_page_the_e_mail_links(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, settings: Settings
) -> None:
    form = await client.get("/privacy/complaints/new")
    assert form.status_code == 200
    assert "respond within 10 business days" in form.text
    sent = await post_form(
        client, "/privacy/complaints/new", {"name": "Pia Plaintiff", "email": "PIA@Example.com", "details": DETAILS}
    )
    assert sent.status_code == 303
    link = sent.headers["location"]
    assert re.fullmatch(r"/privacy/complaints/follow/[\w-]{40,}", link)
    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Your complaint is received: PC-2026-0001." in page.text
    assert "<h1>Privacy complaint PC-2026-0001</h1>" in page.text
    assert "due by 5 January 2027" in page.text
    assert "aimed at by 12 January 2027" in page.text
    assert "someone else&#39;s address" in page.text
    async with AsyncSession(db_engine) as session:
        (mail,) = (await session.scalars(select(OutboxMessage))).all()
    assert mail.to_address == "pia@example.com"  # folded, as every address the site keeps
    assert f"{settings.base_url}{link}" in mail.body_text
    complaint = await complaint_of(db_engine)
    assert (complaint.user_id, complaint.received_at) == (None, NOW)


async def test_a_form_with_problems_says_which_and_keeps_what_was_typed(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    refused = await post_form(client, "/privacy/complaints/new", {"name": "", "email": "pia@", "details": DETAILS})
    assert refused.status_code == 422
    assert set(field_errors(refused.text)) == {"name", "email"}
    assert "someone else&#39;s address" in refused.text  # what was typed is still there
    async with AsyncSession(db_engine) as session:
        assert (await session.scalars(select(Complaint))).all() == []
        assert (await session.scalars(select(OutboxMessage))).all() == []


async def test_one_network_can_send_only_so_many(client: AsyncTestClient[Litestar]) -> None:
    data = {"name": "Pia Plaintiff", "email": "pia@example.com", "details": DETAILS}
    for _ in range(5):
        assert (await post_form(client, "/privacy/complaints/new", data)).status_code == 303
    held = await post_form(client, "/privacy/complaints/new", data)
    assert held.status_code == 429
    assert "Too many complaints from your network" in (form_error(held.text) or "")


async def test_signed_in_the_form_is_filled_in_and_the_complaint_is_theirs(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    ada = await make_user(name="Ada Lovelace", email="ada@example.com")
    other = await make_user(name="Bruno Other", email="bruno@example.com")
    await sign_in(client, ada.email)
    form = (await client.get("/privacy/complaints/new")).text
    assert 'value="Ada Lovelace"' in form
    assert 'value="ada@example.com"' in form
    sent = await post_form(
        client, "/privacy/complaints/new", {"name": "Ada Lovelace", "email": "ada@example.com", "details": DETAILS}
    )
    assert sent.status_code == 303
    complaint = await complaint_of(db_engine)
    assert complaint.user_id == ada.id
    your_data = (await client.get("/profile/data")).text
    assert '<a href="/privacy/complaints/mine">Your privacy complaints</a>' in your_data
    mine = (await client.get("/privacy/complaints/mine")).text
    assert f'href="/privacy/complaints/mine/{complaint.id}">PC-2026-0001</a>' in mine
    own = await client.get(f"/privacy/complaints/mine/{complaint.id}")
    assert own.status_code == 200
    assert "Privacy complaint PC-2026-0001" in own.text
    added = await post_form(client, f"/privacy/complaints/mine/{complaint.id}", {"body": "Also on 21 December."})
    assert (added.status_code, added.headers["location"]) == (303, f"/privacy/complaints/mine/{complaint.id}")
    assert "Also on 21 December." in (await client.get(added.headers["location"])).text
    await post_form(client, "/logout", {})
    await sign_in(client, other.email)
    assert (await client.get(f"/privacy/complaints/mine/{complaint.id}")).status_code == 404
    refused = await post_form(client, f"/privacy/complaints/mine/{complaint.id}", {"body": "Not mine."})
    assert refused.status_code == 404


async def test_the_complainant_adds_information_through_the_link_and_a_wrong_link_finds_nothing(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, settings: Settings
) -> None:
    received = await receive(db_engine, settings)
    link = f"/privacy/complaints/follow/{received.token}"
    empty = await post_form(client, link, {"body": ""})
    assert empty.status_code == 422
    assert list(field_errors(empty.text)) == ["body"]
    added = await post_form(client, link, {"body": "It was the 9:00 appointment."})
    assert (added.status_code, added.headers["location"]) == (303, link)
    page = (await client.get(link)).text
    assert "Added to your complaint: we will read it." in page
    assert "It was the 9:00 appointment." in page
    assert (await client.get(f"{link}x")).status_code == 404
    assert (await post_form(client, f"{link}x", {"body": "Hello"})).status_code == 404
    async with AsyncSession(db_engine) as session:
        kinds = (await session.scalars(select(ComplaintEvent.kind).order_by(ComplaintEvent.at))).all()
    assert kinds == [EventKind.RECEIVED, EventKind.ADDED]


async def test_the_queue_puts_the_next_deadline_first_and_flags_what_is_late_or_close(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, settings: Settings, make_user
) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Olga Officer")
    answered = (
        await receive(db_engine, settings, datetime.datetime(2026, 11, 25, 10, tzinfo=BERLIN), "Answered")
    ).complaint
    async with AsyncSession(db_engine, expire_on_commit=False) as session:  # answered: resolution by 20 December
        mine = await session.get_one(Complaint, answered.id)
        await ComplaintService(session, settings).answer(
            mine, "We are on it.", ask=False, version=mine.version, actor=Actor(officer.id, None), now=NOW
        )
    overdue = (
        await receive(db_engine, settings, datetime.datetime(2026, 12, 1, 10, tzinfo=BERLIN), "Old")
    ).complaint  # due 15th
    close = (
        await receive(db_engine, settings, datetime.datetime(2026, 12, 8, 10, tzinfo=BERLIN), "Close")
    ).complaint  # 22nd
    fresh = (await receive(db_engine, settings, FRIDAY, "Fresh")).complaint  # due 5 January
    await sign_in(client, officer.email)
    page = (await client.get("/staff/complaints")).text
    references = re.findall(r'href="/staff/complaints/[0-9a-f-]{36}">(PC-\d{4}-\d{4})</a>', page)
    # received first, but answered: its next deadline is the resolution's, between the others
    assert references == [overdue.reference, answered.reference, close.reference, fresh.reference]
    rows = page.split("<tr>")[2:]
    assert "First response by 15 December 2026" in rows[0]
    assert "Overdue" in rows[0]
    assert "Resolution by 20 December 2026" in rows[1]
    assert "Due soon" in rows[1]
    assert "Due soon" in rows[2]  # 22 December: two business days after Friday 18th
    assert "Overdue" not in rows[3]
    assert "Due soon" not in rows[3]
    assert "<strong>1</strong> overdue" in page
    assert "<strong>2</strong> due within 2 business days" in page
    assert "<strong>4</strong> open" in page
    assert "before 17:00 (Europe/Berlin)" in page  # the rule, said on the staff page
    waiting = (await client.get("/staff/complaints?status=waiting")).text
    assert "No complaint here." in waiting
    assert (await client.get("/staff/complaints?status=lost")).status_code == 404


async def test_the_officer_replies_and_resolves_and_the_complainant_sees_it_and_is_told(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, settings: Settings, make_user
) -> None:
    ada = await make_user(name="Ada Lovelace", email="ada@example.com")
    received = await receive(db_engine, settings, user=ada)
    complaint = received.complaint
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Olga Officer")
    await sign_in(client, officer.email)
    page = (await client.get(f"/staff/complaints/{complaint.id}")).text
    assert "Privacy complaint PC-2026-0001" in page
    assert "ada@example.com" in page
    note = await post_form(
        client, f"/staff/complaints/{complaint.id}/note", {"version": "1", "body": "Check the reminder log."}
    )
    assert note.status_code == 303
    stale = await post_form(client, f"/staff/complaints/{complaint.id}/reply", {"version": "1", "body": "Sorry!"})
    assert stale.status_code == 409  # the page it came from showed the complaint before the note
    assert "Someone else changed this complaint meanwhile" in stale.text
    assert "Sorry!" in stale.text  # what was typed is kept
    reply = await post_form(
        client, f"/staff/complaints/{complaint.id}/reply", {"version": "2", "body": "We found the cause."}
    )
    assert reply.status_code == 303
    resolved = await post_form(
        client, f"/staff/complaints/{complaint.id}/resolve", {"version": "3", "body": "The address is corrected."}
    )
    assert resolved.status_code == 303
    assert "Resolved: the complainant is told the outcome." in (await client.get(resolved.headers["location"])).text
    assert (
        await post_form(client, f"/staff/complaints/{complaint.id}/undo", {"version": "4", "body": "x"})
    ).status_code == 404

    complainant_view = (await client.get(f"/privacy/complaints/follow/{received.token}")).text
    assert "We found the cause." in complainant_view
    assert "The address is corrected." in complainant_view
    assert "Check the reminder log." not in complainant_view  # internal
    async with AsyncSession(db_engine) as session:
        stored = await session.get_one(Complaint, complaint.id)
        subjects = (await session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.created_at))).all()
    assert (stored.status, stored.first_response_at) == (ComplaintStatus.RESOLVED, NOW)
    assert subjects[1:] == [
        "Our reply to your privacy complaint PC-2026-0001",
        "Your privacy complaint PC-2026-0001 is resolved",
    ]
    await post_form(client, "/logout", {})
    await sign_in(client, ada.email)
    access_log = (await client.get("/profile/data")).text
    assert "Opened your privacy complaint" in access_log
    assert "Olga Officer" in access_log


async def test_a_letter_is_recorded_with_the_day_it_came(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Olga Officer")
    await sign_in(client, officer.email)
    data = {"channel": "post", "received_on": "2026-12-14", "name": "Lee Letter", "email": "lee@example.com",
            "details": "By post: my data was shown to another client."}  # fmt: skip
    future = await post_form(client, "/staff/complaints/new", {**data, "received_on": "2026-12-19"})
    assert future.status_code == 422
    assert field_errors(future.text)["received_on"].startswith("A complaint cannot be received in the future")
    recorded = await post_form(client, "/staff/complaints/new", data)
    assert recorded.status_code == 303
    complaint = await complaint_of(db_engine)
    assert recorded.headers["location"] == f"/staff/complaints/{complaint.id}"
    assert (complaint.channel.value, complaint.counts_from, complaint.respond_by) == (
        "post",
        datetime.date(2026, 12, 14),
        datetime.date(2026, 12, 29),
    )
    assert "Recorded as PC-2026-0001" in (await client.get(recorded.headers["location"])).text


async def test_the_privacy_page_leads_to_the_form(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/privacy")).text
    section = page.split('id="privacy-complaint-process"', 1)[1].split("</section>", 1)[0]
    assert 'href="/privacy/complaints/new">Make a privacy complaint</a>' in section


async def test_additions_through_the_link_are_limited_per_network(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, settings: Settings
) -> None:
    received = await receive(db_engine, settings)
    link = f"/privacy/complaints/follow/{received.token}"
    for n in range(20):
        assert (await post_form(client, link, {"body": f"Addition {n}."})).status_code == 303
    held = await post_form(client, link, {"body": "One more."})
    assert held.status_code == 429
    assert "Too many additions from your network" in (form_error(held.text) or "")
    assert "One more." in held.text  # kept, to send later
    async with AsyncSession(db_engine) as session:
        added = (await session.scalars(select(ComplaintEvent.body).where(ComplaintEvent.kind == EventKind.ADDED))).all()
    assert len(added) == 20
