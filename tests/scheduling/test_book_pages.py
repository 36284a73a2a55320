"""The booking pages: /book → service → staff or anyone → day → time → confirm, without
JavaScript (links and forms) and with htmx (the day's times swapped in place); "My
appointments" and cancelling behind a confirm page, up to the cut-off."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.app import create_app
from smartscheduling.config import Settings
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.scheduling.models import THE_BUSINESS, Appointment, AppointmentStatus, Business, Offering
from tests.helpers import csrf_token, post_form, sign_in
from tests.scheduling.test_booking import MONDAY, NOW, at, book, salon


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=lambda: NOW), base_url="http://testserver.local") as c:
        yield c


def start_param(instant: datetime.datetime) -> str:
    return quote(instant.strftime("%Y-%m-%dT%H:%MZ"))


def links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', page)]


async def appointments(engine: AsyncEngine) -> list[Appointment]:
    async with AsyncSession(engine) as session:
        return list((await session.scalars(select(Appointment).order_by(Appointment.starts_at))).all())


async def test_a_client_books_through_links_and_forms_alone(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, [ana] = await salon(db_engine, make_user)
    carla = await make_user(name="Carla Client")
    catalogue = (await client.get("/book")).text
    assert "Haircut" in catalogue
    assert f"/book/{cut.id}" in links(catalogue)
    # One person performs it: straight to the days. Today (Thursday) starts after the notice.
    days = (await client.get(f"/book/{cut.id}")).text
    assert "Times are in Europe/Berlin." in days
    assert 'aria-current="date"' in days
    assert f"start={start_param(at(MONDAY - datetime.timedelta(days=4), 11))}" in days  # 09:00 + 2 h notice
    assert f"start={start_param(at(MONDAY - datetime.timedelta(days=4), 9))}" not in days
    assert "Saturday 5 December: nothing free" in days
    monday = (await client.get(f"/book/{cut.id}?staff=anyone&day={MONDAY.isoformat()}")).text
    confirm_link = next(href for href in links(monday) if start_param(at(MONDAY, 10)) in quote(href, safe="/?&=%"))
    # Signed out, the confirm step sends the client to sign in and back.
    confirm = await client.get(confirm_link)
    assert confirm.status_code == 200
    assert "Monday 7 December 2026, 10:00" in confirm.text
    assert "Sign in to book" in confirm.text
    assert (await appointments(db_engine)) == []
    next_page = confirm_link
    signed_in = await sign_in(client, carla.email, next_page=next_page)
    assert signed_in.headers["location"] == next_page
    again = (await client.get(next_page)).text
    assert "Book this appointment" in again
    booked = await post_form(client, f"/book/{cut.id}/confirm", {"staff": "anyone", "start": "2026-12-07T09:00Z"})
    assert (booked.status_code, booked.headers["location"]) == (303, "/profile/appointments")
    [appointment] = await appointments(db_engine)
    assert (appointment.client_id, appointment.staff_id, appointment.starts_at) == (carla.id, ana.id, at(MONDAY, 10))
    mine = (await client.get("/profile/appointments")).text
    assert "Booked: Haircut, Monday 7 December 2026, 10:00." in mine
    assert "Upcoming" in mine
    assert f"/profile/appointments/{appointment.id}/cancel" in links(mine)
    async with AsyncSession(db_engine) as session:
        mail = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "appointment_booked"))
    assert mail is not None
    assert mail.to_address == carla.email
    assert "Monday 7 December 2026, 10:00 (Europe/Berlin)" in mail.body_text


async def test_a_newcomer_signs_up_from_the_confirm_step_and_comes_back_to_the_same_time(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, _ = await salon(db_engine, make_user)
    here = f"/book/{cut.id}/confirm?staff=anyone&start={start_param(at(MONDAY, 10))}"
    confirm = (await client.get(here)).text
    signup = next(href for href in links(confirm) if href.startswith("/signup?next="))
    form = (await client.get(signup)).text
    assert f'name="next" value="{html.escape(here)}"' in form
    sent = await post_form(client, "/signup", {
        "name": "Nora Newcomer", "email": "nora@example.com", "password": "correct horse battery staple",
        "date_of_birth": "1990-01-01", "country": "US", "accept_policy": "true", "next": here,
    })  # fmt: skip
    assert sent.status_code == 303
    async with AsyncSession(db_engine) as session:
        body = await session.scalar(select(OutboxMessage.body_text).where(OutboxMessage.kind == "verify_email"))
    assert body is not None
    link = re.search(r"http://testserver\.local(/verify-email/\S+)", body)
    assert link is not None
    verified = await post_form(client, link[1], {})
    assert verified.status_code == 303
    assert verified.headers["location"] == f"/login?next={quote(here, safe='')}"
    signed_in = await sign_in(client, "nora@example.com", next_page=here)
    assert signed_in.headers["location"] == here
    assert "Book this appointment" in (await client.get(here)).text


async def test_htmx_swaps_the_day_list_and_its_times_alone(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, _ = await salon(db_engine, make_user)
    url = f"/book/{cut.id}?staff=anyone&day={MONDAY.isoformat()}"
    partial = await client.get(url, headers={"hx-request": "true", "hx-target": "picker"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="picker"')
    assert "<html" not in partial.text
    assert "Monday 7 December" in partial.text
    whole = (await client.get(url)).text
    assert "<html" in whole
    assert 'id="picker"' in whole


async def test_with_several_staff_the_client_chooses_someone_or_anyone(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, staff = await salon(db_engine, make_user, staff=2)
    choice = (await client.get(f"/book/{cut.id}")).text
    assert "Anyone" in choice
    assert all(f"staff={person.id}" in choice for person in staff)
    with_one = (await client.get(f"/book/{cut.id}?staff={staff[1].id}&day={MONDAY.isoformat()}")).text
    assert f"Haircut with {staff[1].name}" in with_one


async def test_the_client_sees_their_own_time_zone_and_the_business_zone_named(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, _ = await salon(db_engine, make_user)
    nadia = await make_user(time_zone="America/New_York")
    await sign_in(client, nadia.email)
    page = (await client.get(f"/book/{cut.id}?staff=anyone&day={MONDAY.isoformat()}")).text
    assert "Times are in America/New_York, your time zone; Studio" not in page  # the business keeps its name
    assert "Times are in America/New_York, your time zone;" in page
    assert "is in Europe/Berlin" in page
    assert '04:00 <span class="muted">(10:00 there)</span>' in page
    confirm = (await client.get(f"/book/{cut.id}/confirm?staff=anyone&start={start_param(at(MONDAY, 10))}")).text
    assert "Monday 7 December 2026, 04:00 (America/New_York): 10:00 in Europe/Berlin" in confirm


async def test_a_taken_time_answers_409_with_the_nearest_free_times(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, _ = await salon(db_engine, make_user)
    await book(db_engine, await make_user(), at(MONDAY, 10))
    carla = await make_user()
    await sign_in(client, carla.email)
    await csrf_token(client, "/book")
    lost = await post_form(client, f"/book/{cut.id}/confirm", {"staff": "anyone", "start": "2026-12-07T09:00Z"})
    assert lost.status_code == 409
    assert "Someone else booked this time a moment ago." in lost.text
    assert "Monday 7 December 2026, 11:00" in lost.text  # a suggestion, as a link to its confirm step
    assert f"start={start_param(at(MONDAY, 11))}" in lost.text
    shown = await client.get(f"/book/{cut.id}/confirm?staff=anyone&start={start_param(at(MONDAY, 10))}")
    assert shown.status_code == 409
    assert len(await appointments(db_engine)) == 1


@pytest.mark.parametrize(
    "case",
    [
        ({"staff": "anyone", "start": "2026-12-07T11:15Z"}, 422, "This time is not offered"),  # 12:15 in Berlin: lunch
        ({"staff": "anyone", "start": "2026-12-07T09:05Z"}, 422, "This time is not offered"),  # off the grid
        ({"staff": "anyone", "start": "2026-11-30T09:00Z"}, 422, "This time is not offered"),  # the past
        ({"staff": "anyone", "start": "2027-03-01T09:00Z"}, 422, "This time is not offered"),  # beyond the horizon
        ({"staff": "anyone", "start": "2026-12-07 10:00"}, 422, "This time is not offered"),  # no zone
        ({"staff": "anyone", "start": "tomorrow"}, 422, "This time is not offered"),
        ({"staff": "not-an-id", "start": "2026-12-07T09:00Z"}, 422, "does not perform this service"),
        ({"staff": "00000000-0000-0000-0000-000000000001", "start": "2026-12-07T09:00Z"}, 422, "does not perform"),
    ],
)
async def test_a_booking_outside_availability_or_tampered_is_refused_and_writes_nothing(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, case: tuple[dict[str, str], int, str]
) -> None:
    form, status, sentence = case
    cut, _ = await salon(db_engine, make_user)
    await sign_in(client, (await make_user()).email)
    await csrf_token(client, "/book")
    refused = await post_form(client, f"/book/{cut.id}/confirm", form)
    assert refused.status_code == status
    assert sentence in html.unescape(refused.text)
    assert await appointments(db_engine) == []


async def test_an_archived_service_cannot_be_booked(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, _ = await salon(db_engine, make_user)
    async with AsyncSession(db_engine) as session:
        (await session.get_one(Offering, cut.id)).archived_at = NOW
        await session.commit()
    assert "Haircut" not in (await client.get("/book")).text
    assert (await client.get(f"/book/{cut.id}")).status_code == 422
    await sign_in(client, (await make_user()).email)
    await csrf_token(client, "/book")
    refused = await post_form(client, f"/book/{cut.id}/confirm", {"staff": "anyone", "start": "2026-12-07T09:00Z"})
    assert refused.status_code == 422
    assert "no longer offered" in refused.text
    assert await appointments(db_engine) == []


async def test_booking_needs_an_account(client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine) -> None:
    cut, _ = await salon(db_engine, make_user)
    await csrf_token(client, "/login")
    signed_out = await post_form(client, f"/book/{cut.id}/confirm", {"staff": "anyone", "start": "2026-12-07T09:00Z"})
    assert signed_out.status_code in {303, 401}
    assert await appointments(db_engine) == []


async def test_a_client_cancels_behind_a_confirm_page_and_the_row_stays(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    await sign_in(client, carla.email)
    page = await client.get(f"/profile/appointments/{appointment.id}/cancel")
    assert page.status_code == 200
    assert "Cancel this appointment?" in page.text
    assert (await appointments(db_engine))[0].status is AppointmentStatus.BOOKED  # a GET changes nothing
    cancelled = await post_form(client, f"/profile/appointments/{appointment.id}/cancel", {"version": "1"})
    assert (cancelled.status_code, cancelled.headers["location"]) == (303, "/profile/appointments")
    [row] = await appointments(db_engine)
    assert (row.status, row.cancelled_by_id, row.cancelled_at, row.sequence) == (
        AppointmentStatus.CANCELLED, carla.id, NOW, 1,
    )  # fmt: skip
    mine = (await client.get("/profile/appointments")).text
    assert "Cancelled: Haircut, Monday 7 December 2026, 10:00." in mine
    again = await post_form(client, f"/profile/appointments/{appointment.id}/cancel", {"version": str(row.version)})
    assert again.status_code == 409
    assert "already cancelled" in again.text
    async with AsyncSession(db_engine) as session:
        kinds = (await session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.created_at))).all()
    assert kinds == ["appointment_booked", "appointment_cancelled"]


async def test_an_old_tab_cannot_cancel_a_changed_appointment(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    async with AsyncSession(db_engine) as session:  # changed since the page was opened
        (await session.get_one(Appointment, appointment.id)).sequence = 1
        await session.commit()
    await sign_in(client, carla.email)
    stale = await post_form(client, f"/profile/appointments/{appointment.id}/cancel", {"version": "1"})
    assert stale.status_code == 409
    assert "changed after you opened this page" in stale.text
    assert (await appointments(db_engine))[0].status is AppointmentStatus.BOOKED


async def test_after_the_cutoff_the_client_is_sent_to_the_business(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    async with AsyncSession(db_engine) as session:
        business = await session.get_one(Business, THE_BUSINESS)
        business.cutoff_hours, business.phone = 100, "+49 30 5550 1234"
        await session.commit()
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))  # 97 hours after NOW
    await sign_in(client, carla.email)
    mine = (await client.get("/profile/appointments")).text
    assert "+49 30 5550 1234" in mine
    assert f"/profile/appointments/{appointment.id}/cancel" not in links(mine)
    refused = await post_form(client, f"/profile/appointments/{appointment.id}/cancel", {"version": "1"})
    assert refused.status_code == 409
    assert "until 100 hours before" in refused.text
    assert "+49 30 5550 1234" in refused.text
    assert (await appointments(db_engine))[0].status is AppointmentStatus.BOOKED


async def test_someone_elses_appointment_is_not_found(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    appointment = await book(db_engine, await make_user(), at(MONDAY, 10))
    await sign_in(client, (await make_user()).email)
    assert (await client.get(f"/profile/appointments/{appointment.id}/cancel")).status_code == 404
    await csrf_token(client, "/profile/appointments")
    assert (
        await post_form(client, f"/profile/appointments/{appointment.id}/cancel", {"version": "1"})
    ).status_code == 404
    assert (await appointments(db_engine))[0].status is AppointmentStatus.BOOKED
    async with AsyncSession(db_engine) as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1


async def test_a_client_moves_an_appointment_and_it_stays_the_same_one(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    await sign_in(client, carla.email)
    assert f"/profile/appointments/{appointment.id}/reschedule" in links(
        (await client.get("/profile/appointments")).text
    )
    picker = (await client.get(f"/profile/appointments/{appointment.id}/reschedule?day={MONDAY.isoformat()}")).text
    confirm = f"/profile/appointments/{appointment.id}/reschedule/confirm?start={start_param(at(MONDAY, 10, 15))}"
    assert confirm in links(picker)  # overlapping its own old time is fine: it moves
    page = (await client.get(confirm)).text
    assert "Move this appointment?" in page
    assert "Monday 7 December 2026, 10:15" in page
    moved = await post_form(
        client, f"/profile/appointments/{appointment.id}/reschedule/confirm",
        {"version": "1", "start": "2026-12-07T13:00Z"},  # 14:00 in Berlin
    )  # fmt: skip
    assert (moved.status_code, moved.headers["location"]) == (303, "/profile/appointments")
    [row] = await appointments(db_engine)
    assert (row.id, row.starts_at, row.ends_at, row.sequence) == (appointment.id, at(MONDAY, 14), at(MONDAY, 14, 45), 1)
    assert [(entry["from"], entry["to"], entry["by"]) for entry in row.history] == [
        (at(MONDAY, 10).isoformat(), at(MONDAY, 14).isoformat(), "client")
    ]
    assert "Moved: Haircut, now Monday 7 December 2026, 14:00." in (await client.get("/profile/appointments")).text
    await book(db_engine, await make_user(), at(MONDAY, 10))  # the old time is free again
    async with AsyncSession(db_engine) as session:
        kinds = (await session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.created_at))).all()
    assert kinds == ["appointment_booked", "appointment_rescheduled", "appointment_booked"]


async def test_two_tabs_moving_one_appointment_the_second_is_refused(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    await sign_in(client, carla.email)
    path = f"/profile/appointments/{appointment.id}/reschedule/confirm"
    first = await post_form(client, path, {"version": "1", "start": "2026-12-07T13:00Z"})
    assert first.status_code == 303
    second = await post_form(client, path, {"version": "1", "start": "2026-12-07T14:00Z"})
    assert second.status_code == 409
    assert "changed after you opened this page" in second.text
    [row] = await appointments(db_engine)
    assert row.starts_at == at(MONDAY, 14)


async def test_moving_to_a_taken_time_is_a_conflict_and_changes_nothing(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    await book(db_engine, await make_user(), at(MONDAY, 14))
    await sign_in(client, carla.email)
    path = f"/profile/appointments/{appointment.id}/reschedule/confirm"
    taken = await post_form(client, path, {"version": "1", "start": "2026-12-07T13:30Z"})
    assert taken.status_code == 409
    assert "Someone else booked this time" in taken.text
    assert f"{path}?start={start_param(at(MONDAY, 15))}" in links(taken.text)
    assert (await post_form(client, path, {"version": "1", "start": "2026-12-07T11:15Z"})).status_code == 422
    rows = await appointments(db_engine)
    assert [row.starts_at for row in rows] == [at(MONDAY, 10), at(MONDAY, 14)]
    assert rows[0].sequence == 0


async def test_nobody_moves_someone_elses_appointment_or_one_past_the_cutoff(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    soon = await book(db_engine, carla, at(MONDAY - datetime.timedelta(days=4), 13))  # today, in four hours
    await sign_in(client, (await make_user()).email)
    assert (await client.get(f"/profile/appointments/{soon.id}/reschedule")).status_code == 404
    await sign_in(client, carla.email)
    late = await post_form(
        client, f"/profile/appointments/{soon.id}/reschedule/confirm", {"version": "1", "start": "2026-12-07T09:00Z"}
    )
    assert late.status_code == 409
    assert "until 24 hours before" in late.text
    assert (await appointments(db_engine))[0].starts_at == soon.starts_at


# --- in Chromium, with JavaScript on and off --------------------------------------------


async def test_book_see_and_cancel_in_the_browser(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine
) -> None:
    del javascript  # the fixture runs this twice: htmx swaps, then plain links and forms
    await salon(db_engine, make_user)
    async with AsyncSession(db_engine) as session:  # the live server runs on the real clock
        business = await session.get_one(Business, THE_BUSINESS)
        business.notice_minutes = business.cutoff_hours = 0
        await session.commit()
    carla = await make_user(name="Carla Client")
    await page.goto("/book")
    await page.get_by_role("link", name="Haircut").click()
    day = page.get_by_role("navigation", name="Days").get_by_role("link").nth(1)
    chosen = (await day.inner_text()).split()[:3]  # "Friday 4 December", then its count
    await day.click()
    await expect(page.get_by_role("heading", level=2, name=" ".join(chosen))).to_be_visible()
    await page.locator(".time-list").get_by_role("link").first.click()
    await expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    await page.get_by_role("link", name="Sign in to book").click()
    await page.get_by_label("E-mail address").fill(carla.email)
    await page.get_by_label("Password").fill("correct horse battery staple")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Book this appointment").click()
    await expect(page.get_by_role("heading", name="My appointments")).to_be_visible()
    await expect(page.get_by_text(re.compile("^Booked: Haircut"))).to_be_visible()
    await page.get_by_role("link", name=re.compile("^Move")).click()
    later = page.get_by_role("navigation", name="Days").get_by_role("link").nth(2)
    chosen = (await later.inner_text()).split()[:3]
    await later.click()
    # the day's own times, not those of the day shown before the swap
    await expect(page.get_by_role("heading", level=2, name=" ".join(chosen))).to_be_visible()
    await page.locator(".time-list").get_by_role("link").last.click()
    await page.get_by_role("button", name="Move it to this time").click()
    await expect(page.get_by_text(re.compile("^Moved: Haircut, now"))).to_be_visible()
    await page.get_by_role("link", name=re.compile("^Cancel")).click()
    await page.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.get_by_text(re.compile("^Cancelled: Haircut"))).to_be_visible()
    await expect(page.locator(".card .badge")).to_have_text("Cancelled")
    await expect(page.get_by_role("link", name=re.compile("^Cancel"))).to_have_count(0)
    [row] = await appointments(db_engine)
    assert row.status is AppointmentStatus.CANCELLED


async def test_only_signed_in_people_see_their_appointments(client: AsyncTestClient[Litestar], make_user) -> None:
    assert (await client.get("/profile/appointments", follow_redirects=False)).status_code == 303
    staff = await make_user(role=Role.STAFF)
    await sign_in(client, staff.email)
    assert (await client.get("/profile/appointments")).status_code == 200
