"""The day view in Chromium on a front-desk tablet, portrait and landscape, JavaScript on
(the panel opens beside the grid, the grid follows at once) and off (plain pages):
book for a walk-in from an empty slot, mark a client arrived, reschedule from the panel.
The live server runs on the real clock: the tests pick their days from it."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.scheduling.models import Appointment, Offering
from tests.policies.test_browser_policies import sign_in_as
from tests.scheduling.test_booking import BERLIN, salon

SIZES = pytest.mark.parametrize("size", [(768, 1024), (1024, 768)], ids=["portrait", "landscape"])


def berlin_today() -> datetime.date:
    return datetime.datetime.now(BERLIN).date()


def next_weekday() -> datetime.date:
    """The next working day of the test salon after today."""
    day = berlin_today() + datetime.timedelta(days=1)
    while day.weekday() >= 5:  # Saturday, Sunday
        day += datetime.timedelta(days=1)
    return day


def day_text(day: datetime.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


async def add(engine: AsyncEngine, cut: Offering, client: User, staff: User, start: datetime.datetime) -> None:
    end = start + datetime.timedelta(minutes=cut.duration_minutes)
    async with AsyncSession(engine) as session:
        session.add(
            Appointment(
                client_id=client.id, staff_id=staff.id, offering_id=cut.id, starts_at=start, ends_at=end,
                occupied_from=start, occupied_until=end + datetime.timedelta(minutes=cut.buffer_after_minutes),
                price_cents=cut.price_cents, currency="EUR",
            )
        )  # fmt: skip
        await session.commit()


async def no_sideways_scroll(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@SIZES
async def test_book_a_walk_in_from_an_empty_slot_of_the_day_view(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine, size: tuple[int, int]
) -> None:
    del javascript  # runs with JavaScript on and off
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    await salon(db_engine, make_user)
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    day = next_weekday()
    await sign_in_as(page, desk.email)
    await page.get_by_role("link", name="Day", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    await page.get_by_label("Go to").fill(day.isoformat())
    await page.get_by_role("button", name="Go", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(day_text(day))
    await no_sideways_scroll(page)
    await page.get_by_role("link", name="Book Stylist 0 at 10:00").click()
    await expect(page.get_by_role("heading", name="New appointment: who is it for?")).to_be_visible()
    await page.get_by_role("link", name="New client").click()
    await page.get_by_label("Name").fill("Walt Walk-in")
    await page.get_by_label("Phone number").fill("+49 30 901820")
    await page.get_by_role("button", name="Add the client and go on").click()
    await expect(page.get_by_role("heading", name="New appointment: which service?")).to_be_visible()
    await expect(page.get_by_role("definition").filter(has_text="Walt Walk-in")).to_be_visible()
    await page.get_by_role("link", name=re.compile("^Haircut")).click()
    await expect(page.get_by_role("heading", name="Book this appointment?")).to_be_visible()
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(
        page.get_by_text(f"Booked: Haircut for Walt Walk-in, {day_text(day)} {day.year}, 10:00.")
    ).to_be_visible()
    block = page.get_by_role("region", name=day_text(day)).get_by_role("link", name=re.compile("Walt Walk-in"))
    await expect(block).to_contain_text("10:00–10:45")
    await no_sideways_scroll(page)


@SIZES
async def test_mark_a_client_arrived_from_the_day_view_s_panel(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine, size: tuple[int, int]
) -> None:
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    cut, [stylist] = await salon(db_engine, make_user)
    pat = await make_user(name="Pat Present")
    now = datetime.datetime.now(BERLIN)
    midnight = datetime.datetime.combine(now.date(), datetime.time(), tzinfo=BERLIN)
    start = max(now.replace(second=0, microsecond=0) - datetime.timedelta(minutes=10), midnight)
    await add(db_engine, cut, pat, stylist, start.astimezone(datetime.UTC))
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    await sign_in_as(page, desk.email)
    await page.get_by_role("link", name="Day", exact=True).click()
    grid = page.get_by_role("region", name=re.compile(f"^{day_text(berlin_today())}"))
    await grid.get_by_role("link", name=re.compile("Pat Present")).click()
    if javascript:  # beside (or under) the grid, the day view still there
        panel = page.get_by_role("complementary", name="Appointment")
        await expect(panel.get_by_role("heading", name="Haircut")).to_be_focused()
    else:
        panel = page.locator("body")  # the appointment's page, its flash message above the main content
        await expect(page.get_by_role("heading", level=1, name="Haircut")).to_be_visible()
    await panel.get_by_role("button", name="Arrived").click()
    await expect(panel.get_by_text("Marked: Arrived.")).to_be_visible()
    await expect(panel.locator(".summary .badge")).to_have_text("Arrived")
    if javascript:  # the grid follows at once, as another tablet's does within its refresh
        await expect(grid.get_by_role("link", name=re.compile("Pat Present"))).to_contain_text("Arrived")
    await no_sideways_scroll(page)


@SIZES
async def test_reschedule_from_the_panel_to_another_time(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine, size: tuple[int, int]
) -> None:
    del javascript  # runs with JavaScript on and off
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    cut, [stylist] = await salon(db_engine, make_user)
    rita = await make_user(name="Rita Rebook")
    day = next_weekday()
    at_ten = datetime.datetime.combine(day, datetime.time(10), tzinfo=BERLIN)
    await add(db_engine, cut, rita, stylist, at_ten.astimezone(datetime.UTC))
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    await sign_in_as(page, desk.email)
    await page.goto(f"/staff?day={day.isoformat()}")
    await page.get_by_role("region", name=day_text(day)).get_by_role("link", name=re.compile("Rita Rebook")).click()
    await page.get_by_role("link", name="Reschedule").click()
    await expect(page.get_by_role("heading", name="Reschedule: Haircut for Rita Rebook")).to_be_visible()
    await page.get_by_role("navigation", name="Days").get_by_role("link", name=re.compile(f"^{day_text(day)}")).click()
    # the day's own times (the URL is pushed after the swap), not those shown before it
    await expect(page).to_have_url(re.compile(f"day={day.isoformat()}"))
    await expect(page.get_by_role("heading", level=2, name=day_text(day))).to_be_visible()
    await page.locator(".time-list").get_by_role("link", name="15:00").click()
    await expect(page.get_by_role("heading", name="Move this appointment?")).to_be_visible()
    await page.get_by_role("button", name="Move it").click()
    await expect(page.get_by_text(f"Moved to {day_text(day)} {day.year}, 15:00: the client is told.")).to_be_visible()
    block = page.get_by_role("region", name=day_text(day)).get_by_role("link", name=re.compile("Rita Rebook"))
    await expect(block).to_contain_text("15:00–15:45")
