"""Cookie consent in real Chromium, with JavaScript on (the banner and the preferences
form update in place) and off (plain forms that post and come back)."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from smartscheduling.consent.decision import Decision
from tests.conftest import TEST_SECRET

OPTIONAL_COOKIES = {"display"}


async def cookies(page: Page) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in await page.context.cookies()}


async def decision(page: Page) -> Decision:
    found = Decision.decode((await cookies(page))["consent"], TEST_SECRET)
    assert found is not None
    return found


async def expect_saved(page: Page, javascript: bool) -> None:
    """Cookie settings saved: with htmx, announced in #alerts with the focus on it; without,
    the page comes back with the message at the top of the form."""
    saved = "Your choices are saved. They apply from now on."
    if javascript:
        await expect(page.locator("#alerts[aria-live=polite] .alert")).to_have_text(saved)
        await expect(page.locator("#alerts .alert")).to_be_focused()
        await expect(page.locator("#cookie-preferences")).not_to_contain_text(saved)
    else:
        await expect(page.get_by_role("status")).to_have_text(saved)


async def test_a_first_visit_shows_the_banner_and_reject_all_sets_nothing_optional(
    page: Page, javascript: bool
) -> None:
    await page.goto("/privacy")
    banner = page.get_by_role("region", name="Cookies on Smart Scheduling")
    await expect(banner).to_be_visible()
    await expect(page.get_by_role("heading", name="Privacy Policy", exact=False).first).to_be_visible()  # not covered
    await page.get_by_role("button", name="Reject all").click()
    if javascript:  # announced by the page's live region, and the keyboard moves to what happened
        result = page.locator("#alerts[aria-live=polite] .alert")
        await expect(result).to_contain_text("Saved: strictly necessary cookies only.")
        await expect(result).to_be_focused()
    await expect(banner).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"/privacy$"))
    held = await cookies(page)
    assert "consent" in held
    assert not OPTIONAL_COOKIES & set(held)
    chosen = await decision(page)
    assert (chosen.preferences, chosen.analytics) == (False, False)
    await page.goto("/")
    await expect(page.get_by_role("region", name="Cookies on Smart Scheduling")).to_have_count(0)


async def test_accept_all_then_a_preference_cookie_is_set_and_used(page: Page, javascript: bool) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Accept all").click()
    if javascript:
        await expect(page.locator("#alerts .alert")).to_contain_text("Saved: all cookies allowed.")
        await expect(page.locator("#alerts .alert")).to_be_focused()
    await expect(page.get_by_role("button", name="Accept all")).to_have_count(0)
    chosen = await decision(page)
    assert (chosen.preferences, chosen.analytics) == (True, True)
    await page.get_by_role("link", name="Text size").click()
    await page.get_by_label("Larger").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("we will remember this text size")
    assert (await cookies(page))["display"] == "text:larger"
    await expect(page.locator("html")).to_have_class("text-larger")


async def test_a_custom_choice_and_withdrawal_from_the_footer(page: Page, javascript: bool) -> None:
    await page.goto("/")
    await page.get_by_role("link", name="Choose").click()
    await expect(page).to_have_url(re.compile(r"/cookies/preferences$"))
    await expect(page.get_by_role("region", name="Cookies on Smart Scheduling")).to_have_count(0)
    await expect(page.get_by_role("checkbox", name="Strictly necessary (always on)")).to_be_disabled()
    await page.get_by_role("checkbox", name="Preferences").check()
    await page.get_by_role("button", name="Save my choices").click()
    await expect_saved(page, javascript)
    await expect(page.get_by_role("checkbox", name="Preferences")).to_be_checked()
    await expect(page.get_by_role("checkbox", name="Analytics")).not_to_be_checked()
    chosen = await decision(page)
    assert (chosen.preferences, chosen.analytics) == (True, False)

    await page.goto("/display")
    await page.get_by_label("Large", exact=True).check()
    await page.get_by_role("button", name="Save").click()
    assert "display" in await cookies(page)

    # Withdrawing is as easy as giving: the footer link, one untick, one button.
    await page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    await page.get_by_role("checkbox", name="Preferences").uncheck()
    await page.get_by_role("button", name="Save my choices").click()
    await expect_saved(page, javascript)
    assert "display" not in await cookies(page)
    assert (await decision(page)).preferences is False
    await expect(page.get_by_role("cell", name="Own choice")).to_have_count(2)


async def test_global_privacy_control_is_honoured(browser: Browser, live_url: str, javascript: bool) -> None:
    context = await browser.new_context(
        base_url=live_url, java_script_enabled=javascript, extra_http_headers={"Sec-GPC": "1"}
    )
    page = await context.new_page()
    try:
        await page.goto("/")
        await expect(page.get_by_text("Your browser sends a Global Privacy Control signal")).to_be_visible()
        await page.get_by_role("button", name="Accept all").click()
        await expect(page.get_by_role("button", name="Accept all")).to_have_count(0)
        chosen = await decision(page)
        assert (chosen.preferences, chosen.analytics) == (True, False)
        await page.goto("/cookies/preferences")
        await expect(page.get_by_role("checkbox", name="Analytics")).not_to_be_checked()
    finally:
        await context.close()
