"""Staff members' usual weeks: several intervals a day (gaps are breaks), each day's
line checked and marked when wrong, administrators only, every change audited."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.audit.models import AuditEvent
from smartscheduling.scheduling.services import ScheduleService
from tests.helpers import csrf_token, field_errors, post_form, sign_in
from tests.policies.test_browser_policies import sign_in_as


async def week_of(engine: AsyncEngine, user_id: uuid.UUID) -> dict[int, list[tuple[int, int]]]:
    async with AsyncSession(engine) as session:
        return await ScheduleService(session).week(user_id)


async def test_only_administrators_keep_the_hours(client: AsyncTestClient[Litestar], make_user) -> None:
    staff = await make_user(role=Role.STAFF)
    assert (await client.get(f"/staff/schedules/{staff.id}", follow_redirects=False)).status_code == 303
    await sign_in(client, staff.email)
    assert (await client.get(f"/staff/schedules/{staff.id}")).status_code == 403
    assert (await post_form(client, f"/staff/schedules/{staff.id}", {"monday": "9-17"})).status_code == 403


async def test_an_admin_sets_a_week_with_breaks_and_the_change_is_audited(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    ana = await make_user(role=Role.STAFF, name="Ana Stylist")
    await sign_in(client, admin.email)
    assert "Ana Stylist" in (await client.get("/staff/schedules")).text
    await csrf_token(client, f"/staff/schedules/{ana.id}")
    week = {"monday": "9-12, 13:00 to 17:30", "tuesday": "09:00–17:00", "saturday": "10.00-14.00"}
    saved = await post_form(client, f"/staff/schedules/{ana.id}", week)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/staff/schedules/{ana.id}")
    assert await week_of(db_engine, ana.id) == {
        0: [(540, 720), (780, 1050)], 1: [(540, 1020)], 2: [], 3: [], 4: [], 5: [(600, 840)], 6: [],
    }  # fmt: skip
    page = (await client.get(f"/staff/schedules/{ana.id}")).text
    assert "Ana Stylist: hours saved." in page
    assert 'value="09:00–12:00, 13:00–17:30"' in page  # written back the one way
    assert (await post_form(client, f"/staff/schedules/{ana.id}", {**week, "tuesday": ""})).status_code == 303
    assert (await week_of(db_engine, ana.id))[1] == []
    async with AsyncSession(db_engine) as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.hours_changed"))).all()
    assert [(e.subject_id, e.details) for e in events] == [
        (ana.id, {"weekdays": [0, 1, 5]}),
        (ana.id, {"weekdays": [1]}),
    ]


async def test_wrong_lines_are_marked_day_by_day_and_nothing_is_written(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    ana = await make_user(role=Role.STAFF)
    client_person = await make_user(role=Role.CLIENT)
    await sign_in(client, admin.email)
    await csrf_token(client, f"/staff/schedules/{ana.id}")
    bad = {"monday": "9-13, 12-17", "tuesday": "17-9", "wednesday": "mornings", "thursday": "8:75-12", "friday": "9-17"}
    refused = await post_form(client, f"/staff/schedules/{ana.id}", bad)
    assert refused.status_code == 422
    assert field_errors(refused.text) == {
        "monday": "The intervals 09:00–13:00 and 12:00–17:00 overlap.",
        "tuesday": "Each interval must end after it starts (17:00–09:00 does not).",
        "wednesday": "Write the hours like 09:00–12:00, 13:00–17:00 (“mornings” is not).",
        "thursday": "There is no such time of day in “8:75-12”.",
    }
    assert 'value="mornings"' in refused.text  # what was typed stays
    assert await week_of(db_engine, ana.id) == {day: [] for day in range(7)}
    assert (await client.get(f"/staff/schedules/{client_person.id}")).status_code == 404  # clients have no hours
    assert (await client.get(f"/staff/schedules/{uuid.uuid4()}")).status_code == 404


async def test_hours_in_the_browser(page: Page, make_user) -> None:
    admin = await make_user(role=Role.ADMIN)
    await make_user(role=Role.STAFF, name="Ana Stylist")
    await sign_in_as(page, admin.email)
    await page.get_by_role("link", name="Hours", exact=True).click()
    await page.get_by_role("link", name="Ana Stylist").click()
    await page.get_by_label("Monday").fill("9-12, 11-17")
    await page.get_by_role("button", name="Save the week").click()
    await expect(page.get_by_text("The intervals 09:00–12:00 and 11:00–17:00 overlap.")).to_be_visible()
    await page.get_by_label("Monday").fill("9-12, 13-17")
    await page.get_by_role("button", name="Save the week").click()
    await expect(page.get_by_text("Ana Stylist: hours saved.")).to_be_visible()
    await expect(page.get_by_label("Monday")).to_have_value("09:00–12:00, 13:00–17:00")
