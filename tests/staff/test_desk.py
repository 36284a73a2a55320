"""One appointment at the front desk: its panel, arrived / completed / no-show from the
appointment's day on, cancelling (the client is told), and every action made against
the version the page showed."""

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
from smartscheduling.audit.models import AuditEvent
from smartscheduling.config import Settings
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.scheduling.models import Appointment, AppointmentStatus
from tests.helpers import form_error, post_form, sign_in
from tests.scheduling.test_booking import MONDAY, at, book, free_on, salon

ON_THE_DAY = at(MONDAY, 10, 5)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The front desk on the morning of the appointment."""
    app = create_app(settings, clock=lambda: ON_THE_DAY)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def booked(client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine) -> tuple[Appointment, User]:
    await salon(db_engine, make_user)
    pat = await make_user(name="Pat Client", phone="+442079460958")
    appointment = await book(db_engine, pat, at(MONDAY, 10))
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    await sign_in(client, desk.email)
    return appointment, desk


async def stored(engine: AsyncEngine, appointment: Appointment) -> Appointment:
    async with AsyncSession(engine) as session:
        return await session.get_one(Appointment, appointment.id)


async def test_the_panel_shows_the_appointment_and_its_client_and_is_in_their_access_log(
    client: AsyncTestClient[Litestar], booked: tuple[Appointment, User], db_engine: AsyncEngine
) -> None:
    appointment, desk = booked
    page = (await client.get(f"/staff/appointments/{appointment.id}")).text
    assert "<h1>Haircut</h1>" in page
    assert "Monday 7 December 2026, 10:00–10:45" in page
    assert "Pat Client" in page
    assert "+442079460958" in page
    assert '<span class="badge">Booked</span>' in page
    async with AsyncSession(db_engine) as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "client.viewed"))
    assert event is not None
    assert (event.actor_id, event.subject_id) == (desk.id, appointment.client_id)
    assert (await client.get(f"/staff/appointments/{desk.id}")).status_code == 404


async def test_staff_mark_arrived_then_completed_and_a_stale_page_is_refused_with_the_current_state(
    client: AsyncTestClient[Litestar], booked: tuple[Appointment, User], db_engine: AsyncEngine
) -> None:
    appointment, _ = booked
    url = f"/staff/appointments/{appointment.id}"
    arrived = await post_form(client, f"{url}/status", {"version": "1", "status": "arrived"})
    assert (arrived.status_code, arrived.headers["location"]) == (303, url)
    assert "Marked: Arrived." in (await client.get(url)).text
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.ARRIVED

    other_tablet = await post_form(client, f"{url}/status", {"version": "1", "status": "no_show"})
    assert other_tablet.status_code == 409
    assert "This appointment changed after you opened this page" in (form_error(other_tablet.text) or "")
    assert '<span class="badge">Arrived</span>' in other_tablet.text  # as it is now
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.ARRIVED

    done = await post_form(client, f"{url}/status", {"version": "2", "status": "completed"})
    assert done.status_code == 303
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.COMPLETED
    bad = await post_form(client, f"{url}/status", {"version": "3", "status": "cancelled"})
    assert bad.status_code == 400


async def test_arrived_cannot_be_marked_before_the_appointments_day(
    settings: Settings, make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    pat = await make_user()
    appointment = await book(db_engine, pat, at(MONDAY, 10))
    desk = await make_user(role=Role.STAFF)
    sunday_evening = at(MONDAY, 10) - datetime.timedelta(hours=17)
    early = create_app(settings, clock=lambda: sunday_evening)
    async with AsyncTestClient(app=early, base_url="http://testserver.local") as client:
        await sign_in(client, desk.email)
        refused = await post_form(
            client, f"/staff/appointments/{appointment.id}/status", {"version": "1", "status": "arrived"}
        )
    assert refused.status_code == 422
    assert "from the appointment&#39;s day on" in refused.text
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.BOOKED


async def test_staff_cancel_the_client_is_told_and_the_time_is_free_again(
    client: AsyncTestClient[Litestar], booked: tuple[Appointment, User], db_engine: AsyncEngine
) -> None:
    appointment, desk = booked
    url = f"/staff/appointments/{appointment.id}"
    assert at(MONDAY, 10) not in await free_on(db_engine, MONDAY)
    cancelled = await post_form(client, f"{url}/cancel", {"version": "1"})
    assert cancelled.status_code == 303
    page = (await client.get(url)).text
    assert "Cancelled: the client is told." in page
    assert not re.search(r">Arrived</button>", page)  # nothing left to mark
    row = await stored(db_engine, appointment)
    assert (row.status, row.cancelled_by_id, row.sequence) == (AppointmentStatus.CANCELLED, desk.id, 1)
    async with AsyncSession(db_engine) as session:
        told = (await session.scalars(select(OutboxMessage.kind).where(OutboxMessage.user_id == row.client_id))).all()
    assert "appointment_cancelled" in told
    again = await post_form(client, f"{url}/cancel", {"version": "2"})
    assert again.status_code == 409
    assert "already cancelled" in again.text


async def test_what_took_place_is_neither_cancelled_by_staff_nor_changed_by_the_client(
    client: AsyncTestClient[Litestar], booked: tuple[Appointment, User], make_user, db_engine: AsyncEngine
) -> None:
    appointment, _ = booked
    url = f"/staff/appointments/{appointment.id}"
    await post_form(client, f"{url}/status", {"version": "1", "status": "completed"})
    refused = await post_form(client, f"{url}/cancel", {"version": "2"})
    assert refused.status_code == 422
    assert "mark it booked first to cancel it" in refused.text
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.COMPLETED
    await post_form(client, "/logout", {})
    async with AsyncSession(db_engine) as session:
        pat = await session.get_one(User, appointment.client_id)
    await sign_in(client, pat.email)
    # the client's own cancel, as if the page were still open (the cut-off aside, it is no longer theirs)
    theirs = await post_form(client, f"/profile/appointments/{appointment.id}/cancel", {"version": "2"})
    assert theirs.status_code == 409
    assert (await stored(db_engine, appointment)).status is AppointmentStatus.COMPLETED
