"""Closed days: the public holidays of the business's country and region close it unless
opened; other days it closes besides; nothing in the past; every change audited."""

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
from smartscheduling.scheduling.models import Business
from smartscheduling.scheduling.services import ClosedDayService, public_holidays
from tests.helpers import csrf_token, field_errors, post_form, sign_in
from tests.policies.test_browser_policies import sign_in_as
from tests.scheduling.test_settings import SALON

#: The app's clock in these tests: 3 December 2026, 09:00 in Berlin.
NOW = datetime.datetime(2026, 12, 3, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=lambda: NOW), base_url="http://testserver.local") as c:
        yield c


async def berlin_admin(client: AsyncTestClient[Litestar], make_user) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/settings")
    assert (await post_form(client, "/staff/settings", SALON)).status_code == 303  # Germany, Berlin


async def closed(engine: AsyncEngine) -> frozenset[datetime.date]:
    async with AsyncSession(engine) as session:
        business = await session.get_one(Business, 1)
        return await ClosedDayService(session).closed_between(
            business, datetime.date(2026, 12, 1), datetime.date(2027, 12, 31)
        )


async def test_public_holidays_close_the_business_unless_opened(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await berlin_admin(client, make_user)
    page = (await client.get("/staff/closed-days")).text
    assert "Christmas Day" in page
    assert "Women&#39;s Day" in page  # 8 March: Berlin's own holiday, not Germany's
    christmas = datetime.date(2026, 12, 25)
    assert christmas in await closed(db_engine)
    opened = await post_form(client, "/staff/closed-days", {"day": "2026-12-25", "closed": "false"})
    assert opened.status_code == 303
    assert christmas not in await closed(db_engine)
    assert "Yes: open" in (await client.get("/staff/closed-days")).text
    assert (await post_form(client, "/staff/closed-days", {"day": "2026-12-25", "closed": "true"})).status_code == 303
    assert christmas in await closed(db_engine)


async def test_the_business_closes_on_other_days_with_a_note(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await berlin_admin(client, make_user)
    training = {"day": "2027-02-10", "closed": "true", "note": "Staff training"}
    assert (await post_form(client, "/staff/closed-days", training)).status_code == 303
    page = (await client.get("/staff/closed-days")).text
    assert "Staff training" in page
    assert datetime.date(2027, 2, 10) in await closed(db_engine)
    assert (await post_form(client, "/staff/closed-days", {"day": "2027-02-10", "closed": "false"})).status_code == 303
    assert datetime.date(2027, 2, 10) not in await closed(db_engine)
    async with AsyncSession(db_engine) as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at))).all()
    assert [(e.action, e.details) for e in events if e.action.startswith("business.day")] == [
        ("business.day_closed", {"day": "2027-02-10"}),
        ("business.day_opened", {"day": "2027-02-10"}),
    ]


async def test_a_day_in_the_past_or_no_day_at_all_is_refused(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await berlin_admin(client, make_user)
    before = await closed(db_engine)
    past = await post_form(client, "/staff/closed-days", {"day": "2026-12-02", "closed": "true"})
    assert past.status_code == 422
    assert field_errors(past.text) == {"day": "That day is over: choose today or a later day."}
    nonsense = await post_form(client, "/staff/closed-days", {"day": "31.02.2027", "closed": "true"})
    assert nonsense.status_code == 422
    assert field_errors(nonsense.text) == {"day": "Enter day as a date, like 1990-04-23."}
    assert await closed(db_engine) == before


async def test_without_a_country_there_are_no_public_holidays(client: AsyncTestClient[Litestar], make_user) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    page = (await client.get("/staff/closed-days")).text
    assert "Choose the country in the settings" in page
    assert "No closed day in the next twelve months." in page


async def test_closed_days_in_the_browser(page: Page, make_user) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in_as(page, admin.email)
    await page.goto("/staff/settings")
    await page.get_by_label("Country").select_option("DE")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Settings saved.")).to_be_visible()
    await page.get_by_role("link", name="Closed days", exact=True).click()
    today = datetime.datetime.now(datetime.UTC).date()
    germany = Business.defaults()
    germany.country = "DE"
    first_day, first_name = next(iter(public_holidays(germany, today, today + datetime.timedelta(days=366)).items()))
    row = page.get_by_role("row", name=first_name).first
    await expect(row).to_contain_text("No: closed")
    await row.get_by_role("button", name="Open this day").click()
    await expect(page.get_by_role("row", name=first_name).first).to_contain_text("Yes: open")
    assert first_day >= today
