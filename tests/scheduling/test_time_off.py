"""Time off and extra hours: staff add and remove their own time off, administrators
anyone's and extra hours; availability follows; bad entries are marked at their field;
every change is audited."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.app import create_app
from smartscheduling.audit.models import AuditEvent
from smartscheduling.config import Settings
from smartscheduling.scheduling.models import StaffException
from tests.helpers import csrf_token, field_errors, form_error, post_form, sign_in
from tests.policies.test_browser_policies import sign_in_as
from tests.scheduling.test_booking import MONDAY, NOW, at, book, free_on, salon

TUESDAY, SATURDAY = MONDAY + datetime.timedelta(days=1), MONDAY + datetime.timedelta(days=5)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=lambda: NOW), base_url="http://testserver.local") as c:
        yield c


async def entries(engine: AsyncEngine) -> list[StaffException]:
    async with AsyncSession(engine) as session:
        return list((await session.scalars(select(StaffException).order_by(StaffException.first_day))).all())


async def test_staff_take_time_off_and_clients_cannot_book_it(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    _, [ana] = await salon(db_engine, make_user)
    await sign_in(client, ana.email)
    assert (await client.get("/staff/time-off")).status_code == 200
    whole = await post_form(client, "/staff/time-off", {"first_day": MONDAY.isoformat(), "note": "Holiday"})
    assert (whole.status_code, whole.headers["location"]) == (303, "/staff/time-off")
    part = {"first_day": TUESDAY.isoformat(), "hours": "13-17"}
    assert (await post_form(client, "/staff/time-off", part)).status_code == 303
    assert await free_on(db_engine, MONDAY) == []
    tuesday = await free_on(db_engine, TUESDAY)
    assert tuesday[-1] == at(TUESDAY, 11, 15)  # the morning only
    page = (await client.get("/staff/time-off")).text
    assert "Time off added: 8 December 2026." in page
    assert "13:00–17:00" in page
    monday = (await entries(db_engine))[0]
    removed = await post_form(client, f"/staff/time-off/{monday.id}/delete", {})
    assert removed.status_code == 303
    assert (await free_on(db_engine, MONDAY))[0] == at(MONDAY, 9)
    async with AsyncSession(db_engine) as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.subject_id == ana.id))).all()
    assert [e.action for e in events if e.action.startswith("staff.")] == [
        "staff.time_off_added", "staff.time_off_added", "staff.time_off_removed",
    ]  # fmt: skip


async def test_staff_add_no_extra_hours_and_touch_nobody_elses_time_off(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    _, [ana, ben] = await salon(db_engine, make_user, staff=2)
    await sign_in(client, ben.email)
    await post_form(client, "/staff/time-off", {"first_day": MONDAY.isoformat()})
    [bens] = await entries(db_engine)
    await sign_in(client, ana.email)
    extra = await post_form(
        client, "/staff/time-off", {"kind": "extra_hours", "first_day": SATURDAY.isoformat(), "hours": "10-14"}
    )
    assert extra.status_code == 422
    assert "extra hours are added by an administrator" in (form_error(extra.text) or "")
    assert (await post_form(client, f"/staff/time-off/{bens.id}/delete", {})).status_code == 404
    assert [entry.id for entry in await entries(db_engine)] == [bens.id]
    assert (await client.get(f"/staff/schedules/{ben.id}/exceptions")).status_code == 403


async def test_clients_have_no_time_off(client: AsyncTestClient[Litestar], make_user) -> None:
    await sign_in(client, (await make_user()).email)
    assert (await client.get("/staff/time-off")).status_code == 403


async def test_an_admin_adds_extra_hours_and_removes_anyones_entries(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    _, [ana] = await salon(db_engine, make_user)
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    assert await free_on(db_engine, SATURDAY) == []
    page = f"/staff/schedules/{ana.id}/exceptions"
    assert f'href="{page}"' in (await client.get(f"/staff/schedules/{ana.id}")).text
    added = await post_form(
        client, page, {"kind": "extra_hours", "first_day": SATURDAY.isoformat(), "hours": "10:00-14:00"}
    )
    assert (added.status_code, added.headers["location"]) == (303, page)
    saturday = await free_on(db_engine, SATURDAY)
    assert (saturday[0], saturday[-1]) == (at(SATURDAY, 10), at(SATURDAY, 13, 15))
    assert "Extra hours added: 12 December 2026." in (await client.get(page)).text
    [entry] = await entries(db_engine)
    assert (await post_form(client, f"{page}/{entry.id}/delete", {})).status_code == 303
    assert await entries(db_engine) == []
    assert await free_on(db_engine, SATURDAY) == []


@pytest.mark.parametrize(
    "case",
    [
        ({"first_day": "2026-12-09", "last_day": "2026-12-08"}, "last_day", "cannot come before the first"),
        ({"first_day": "2026-12-08", "last_day": "2026-12-10", "hours": "13-17"}, "hours", "Hours are for one day"),
        ({"first_day": "2026-12-08", "hours": "17-13"}, "hours", "must end after it starts"),
        ({"first_day": "2026-12-08", "hours": "9-12, 13-17"}, "hours", "Give one interval"),
        ({"first_day": "2026-12-08", "hours": "lunch"}, "hours", "Write the hours like"),
        ({"first_day": "2026-12-01"}, "first_day", "That day is over"),
        ({"first_day": "8 December"}, "first_day", ""),
        ({"kind": "extra_hours", "first_day": "2026-12-12"}, "hours", "Give the extra hours"),
        ({"kind": "holiday", "first_day": "2026-12-12"}, "kind", "Choose time off or extra hours."),
    ],
)
async def test_a_bad_entry_is_marked_at_its_field_and_nothing_is_written(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, case: tuple[dict[str, str], str, str]
) -> None:
    form, name, sentence = case
    _, [ana] = await salon(db_engine, make_user)
    await sign_in(client, (await make_user(role=Role.ADMIN)).email)
    await csrf_token(client, f"/staff/schedules/{ana.id}/exceptions")
    refused = await post_form(client, f"/staff/schedules/{ana.id}/exceptions", form)
    assert refused.status_code == 422
    assert sentence in field_errors(refused.text)[name]
    assert await entries(db_engine) == []


async def test_staff_add_and_remove_time_off_in_the_browser(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine
) -> None:
    del javascript  # runs with JavaScript on and off
    _, [ana] = await salon(db_engine, make_user)
    await sign_in_as(page, ana.email)
    await page.get_by_role("link", name="Time off").click()
    day = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=30)
    await page.get_by_label("From").fill(day.isoformat())
    await page.get_by_label("Note").fill("Dentist")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_role("row", name="Dentist")).to_be_visible()
    await page.get_by_role("row", name="Dentist").get_by_role("button", name="Remove").click()
    await expect(page.get_by_text("Nothing planned.")).to_be_visible()
    assert await entries(db_engine) == []


# --- how staff appear to clients -------------------------------------------------------


async def test_staff_say_how_clients_see_them_and_booking_shows_it(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    cut, [ana, _] = await salon(db_engine, make_user, staff=2)
    await sign_in(client, ana.email)
    form = (await client.get("/staff/profile")).text
    assert f'value="{ana.name}"' in form  # the account's name until saved
    empty = await post_form(client, "/staff/profile", {"display_name": "", "bio": ""})
    assert empty.status_code == 422
    assert "display_name" in field_errors(empty.text)
    saved = await post_form(client, "/staff/profile", {"display_name": "Ana", "bio": "Curls and colour."})
    assert (saved.status_code, saved.headers["location"]) == (303, "/staff/profile")
    choice = (await client.get(f"/book/{cut.id}")).text
    assert ">Ana</a>" in choice
    assert "Curls and colour." in choice
    async with AsyncSession(db_engine) as session:
        [event] = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.profile_changed"))).all()
    assert (event.subject_id, event.details) == (ana.id, {"fields": ["display_name", "bio"]})
    carla = await make_user()
    await book(db_engine, carla, at(MONDAY, 10), staff_id=ana.id)
    await sign_in(client, carla.email)
    assert "with Ana" in (await client.get("/profile/appointments")).text
    assert (await client.get("/staff/profile")).status_code == 403


async def test_staff_edit_their_profile_in_the_browser(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine
) -> None:
    del javascript  # runs with JavaScript on and off
    _, [ana] = await salon(db_engine, make_user)
    await sign_in_as(page, ana.email)
    await page.goto("/staff/profile")
    await page.get_by_label("Name shown to clients").fill("Ana")
    await page.get_by_label("About you").fill("Curls and colour.")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved: this is how clients see you.")).to_be_visible()
    await page.goto("/book")
    await page.get_by_role("link", name="Haircut").click()
    await expect(page.get_by_role("heading", name="Haircut with Ana")).to_be_visible()
