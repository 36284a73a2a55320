"""The client directory in Chromium on a front-desk tablet, JavaScript on (the search
updates as staff type) and off (the Search button)."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.scheduling.models import Appointment
from tests.policies.test_browser_policies import sign_in_as
from tests.scheduling.test_booking import salon


@pytest.mark.parametrize("size", [(768, 1024), (1024, 768)], ids=["portrait", "landscape"])
async def test_staff_add_a_walk_in_find_them_and_note_something(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine, size: tuple[int, int]
) -> None:
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    await make_user(name="Wanda Account", email="wanda.account@example.com")
    await make_user(name="Someone Else")
    await sign_in_as(page, desk.email)
    await page.get_by_role("link", name="Clients").click()
    await page.get_by_role("link", name="New client").click()
    await page.get_by_label("Name").fill("Wanda Walk-in")
    await page.get_by_label("Phone number").fill("+44 20 7946 0958")
    await page.get_by_role("button", name="Add client").click()
    await expect(page.get_by_text("Client added: Wanda Walk-in.")).to_be_visible()
    await expect(page.get_by_text("No account: known to staff only")).to_be_visible()
    await page.get_by_label("New note").fill("Prefers the chair by the window.")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.get_by_text("Prefers the chair by the window.")).to_be_visible()

    await page.get_by_role("link", name="← Clients").click()
    results = page.get_by_role("region", name="Clients")
    await expect(results.get_by_role("row")).to_have_count(4)  # the header and three clients
    search = page.get_by_label("Search by any part of a name, e-mail address or phone number")
    if javascript:
        await search.press_sequentially("WAN")  # no button: the list follows the typing
    else:
        await search.fill("WAN")
        await page.get_by_role("button", name="Search").click()
    await expect(results.get_by_role("row")).to_have_count(3)
    await expect(page).to_have_url(re.compile(r"/staff/clients\?q=WAN$"))
    await search.fill("0958")
    await search.press("Enter")
    await expect(results.get_by_role("row")).to_have_count(2)
    await results.get_by_role("link", name="Wanda Walk-in").click()
    await expect(page.get_by_role("heading", name="Wanda Walk-in")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll


async def test_a_privacy_officer_anonymizes_a_client_from_a_tablet(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine
) -> None:
    del javascript  # runs with JavaScript on and off
    await page.set_viewport_size({"width": 768, "height": 1024})
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Pia Privacy")
    gone = await make_user(name="Gina Gone", email="gina@example.com")
    await make_user(name="Stella Stays")
    await sign_in_as(page, officer.email)
    await page.get_by_role("link", name="Clients").click()
    await page.get_by_role("link", name="Gina Gone").click()
    await page.get_by_role("link", name="Anonymize…").click()
    await expect(page.get_by_role("heading", name="Anonymize Gina Gone")).to_be_visible()
    await page.get_by_label("Reason").fill("She asked by phone.")
    await page.get_by_role("button", name="Anonymize this client").click()
    await expect(page.get_by_text("Tick the box to confirm: this cannot be undone.")).to_be_visible()
    await expect(page.get_by_label("Reason")).to_have_value("She asked by phone.")  # nothing typed is lost
    await page.get_by_label("I understand that this cannot be undone.").check()
    await page.get_by_role("button", name="Anonymize this client").click()
    await expect(page.get_by_text("Anonymized: nothing identifies the client any more")).to_be_visible()
    results = page.get_by_role("region", name="Clients")
    await expect(results.get_by_role("link", name="Stella Stays")).to_be_visible()
    await expect(results.get_by_role("link", name="Gina Gone")).to_have_count(0)
    async with AsyncSession(db_engine) as session:
        assert await session.get(User, gone.id) is None


async def test_staff_mark_a_client_arrived_from_the_appointment_panel(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine
) -> None:
    del javascript  # runs with JavaScript on and off
    await page.set_viewport_size({"width": 1024, "height": 768})
    cut, [stylist] = await salon(db_engine, make_user)
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    pat = await make_user(name="Pat Present")
    async with AsyncSession(db_engine) as session:  # started ten minutes ago, by the live server's clock
        start = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(minutes=10)
        end = start + datetime.timedelta(minutes=cut.duration_minutes)
        session.add(
            Appointment(
                client_id=pat.id,
                staff_id=stylist.id,
                offering_id=cut.id,
                starts_at=start,
                ends_at=end,
                occupied_from=start,
                occupied_until=end,
                price_cents=cut.price_cents,
                currency="EUR",
            )
        )
        await session.commit()
    await sign_in_as(page, desk.email)
    await page.goto("/staff/clients")
    await page.get_by_role("link", name="Pat Present").click()
    await page.get_by_role("region", name="Appointments").get_by_role("link").first.click()
    await expect(page.get_by_role("heading", name="Haircut")).to_be_visible()
    await page.get_by_role("button", name="Arrived").click()
    await expect(page.get_by_text("Marked: Arrived.")).to_be_visible()
    await expect(page.locator(".summary .badge")).to_have_text("Arrived")
    await expect(page.get_by_role("button", name="Arrived")).to_have_count(0)
