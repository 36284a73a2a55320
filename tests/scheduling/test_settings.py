"""Business settings: administrators only, every field checked, every change audited,
no lost update between two tabs; in Chromium with JavaScript on and off."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.audit.models import AuditEvent
from smartscheduling.scheduling.models import Business
from tests.helpers import csrf_token, field_errors, form_error, post_form, sign_in
from tests.policies.test_browser_policies import sign_in_as

SALON = {
    "version": "1",
    "name": "Studio Lumen",
    "phone": "+49 30 1234567",
    "email": "Hello@Studio-Lumen.example",
    "time_zone": "Europe/Berlin",
    "country": "DE",
    "subdivision": "be",
    "slot_step_minutes": "15",
    "notice_minutes": "120",
    "horizon_days": "60",
    "cutoff_hours": "24",
    "reminder_hours": "24",
    "currency": "EUR",
}


async def stored(engine: AsyncEngine) -> Business | None:
    async with AsyncSession(engine) as session:
        return await session.get(Business, 1)


async def business_events(engine: AsyncEngine) -> list[tuple[str, dict]]:
    async with AsyncSession(engine) as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at))).all()
    return [(e.action, e.details) for e in events if e.action.startswith("business.")]


async def test_only_administrators_see_the_settings(client: AsyncTestClient[Litestar], make_user) -> None:
    anonymous = await client.get("/staff/settings", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    staff = await make_user(role=Role.STAFF)
    await sign_in(client, staff.email)
    assert (await client.get("/staff/settings")).status_code == 403
    assert (await post_form(client, "/staff/settings", SALON)).status_code == 403


async def test_an_admin_saves_the_settings_and_the_change_is_audited(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    first = await client.get("/staff/settings")
    assert 'value="Smart Scheduling"' in first.text  # the defaults, before anything is stored
    assert await stored(db_engine) is None
    saved = await post_form(client, "/staff/settings", SALON)
    assert (saved.status_code, saved.headers["location"]) == (303, "/staff/settings")
    business = await stored(db_engine)
    assert business is not None
    assert (business.name, business.time_zone, business.country, business.subdivision) == (
        "Studio Lumen", "Europe/Berlin", "DE", "BE",
    )  # fmt: skip
    assert (business.email, business.currency, business.version) == ("hello@studio-lumen.example", "EUR", 1)
    page = (await client.get("/staff/settings")).text
    assert "Settings saved." in page
    assert '<option value="Europe/Berlin" selected>Europe/Berlin</option>' in page
    again = await post_form(client, "/staff/settings", {**SALON, "slot_step_minutes": "30"})
    assert again.status_code == 303
    assert (await stored(db_engine)).slot_step_minutes == 30  # type: ignore[union-attr]
    unchanged = await post_form(client, "/staff/settings", {**SALON, "version": "2", "slot_step_minutes": "30"})
    assert unchanged.status_code == 303
    assert "Settings unchanged." in (await client.get("/staff/settings")).text
    events = await business_events(db_engine)
    assert [action for action, _ in events] == ["business.updated", "business.updated"]
    assert events[1][1]["fields"] == ["slot_step_minutes"]  # which fields, never their values


async def test_bad_settings_are_refused_field_by_field_and_nothing_is_written(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/settings")
    bad = {
        **SALON,
        "time_zone": "Mars/Olympus_Mons",
        "subdivision": "ZZ",
        "slot_step_minutes": "17",
        "horizon_days": "0",
        "currency": "XXX",
        "name": "",
    }
    refused = await post_form(client, "/staff/settings", bad)
    assert refused.status_code == 422
    errors = field_errors(refused.text)
    assert errors == {
        "name": "Please fill in name.",
        "time_zone": "Choose a time zone from the list.",
        "slot_step_minutes": "Choose a multiple of 5 minutes.",
        "horizon_days": "Enter booking horizon in days, 1 to 365.",
        "currency": "Choose a currency from the list.",
        "subdivision": errors["subdivision"],
    }
    assert errors["subdivision"].startswith("That is not a region with its own public holidays (known: BB, BE, BW")
    assert 'value="Mars/Olympus_Mons"' not in refused.text  # a select shows only what it offers
    assert 'value="ZZ"' in refused.text  # what was typed stays
    no_country = await post_form(client, "/staff/settings", {**SALON, "country": ""})
    assert field_errors(no_country.text) == {"subdivision": "Choose the country first: regions belong to a country."}
    assert await stored(db_engine) is None
    assert await business_events(db_engine) == []


async def test_two_tabs_cannot_overwrite_each_other(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/settings")
    assert (await post_form(client, "/staff/settings", SALON)).status_code == 303  # now at version 1
    assert (await post_form(client, "/staff/settings", {**SALON, "name": "Tab A"})).status_code == 303
    late = await post_form(client, "/staff/settings", {**SALON, "name": "Tab B"}, htmx=True)  # opened at 1
    assert late.status_code == 409
    assert form_error(late.text).startswith("Someone saved the settings after you opened this form")  # type: ignore[union-attr]
    assert 'name="version" value="2"' in late.text  # saving again replaces theirs, knowingly
    assert 'value="Tab B"' in late.text
    assert (await stored(db_engine)).name == "Tab A"  # type: ignore[union-attr]
    assert (await post_form(client, "/staff/settings", {**SALON, "version": "2", "name": "Tab B"})).status_code == 303
    assert (await stored(db_engine)).name == "Tab B"  # type: ignore[union-attr]


async def test_an_htmx_save_answers_with_the_form_and_announces_it(
    client: AsyncTestClient[Litestar], make_user
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/settings")
    saved = await post_form(client, "/staff/settings", SALON, htmx=True)
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith("<form")
    assert '<div id="alerts" hx-swap-oob="innerHTML">' in saved.text
    assert "Settings saved." in saved.text
    assert 'name="version" value="1"' in saved.text


async def test_settings_in_the_browser(page: Page, make_user, javascript: bool) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in_as(page, admin.email)
    await page.get_by_role("link", name="Settings", exact=True).click()
    await expect(page.get_by_role("heading", name="Business settings")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("Studio Lumen")
    await page.get_by_label("Time zone").select_option("America/New_York")
    await page.get_by_label("Time between start times (minutes)").fill("12")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Choose a multiple of 5 minutes.")).to_be_visible()
    await expect(page.get_by_label("Name", exact=True)).to_have_value("Studio Lumen")  # nothing typed is lost
    await page.get_by_label("Time between start times (minutes)").fill("10")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Settings saved.")).to_be_visible()
    if not javascript:
        await expect(page).to_have_url(re.compile(r"/staff/settings$"))
    await page.reload()
    await expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    await expect(page.get_by_label("Time between start times (minutes)")).to_have_value("10")
