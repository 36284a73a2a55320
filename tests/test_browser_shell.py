"""The page shell in real Chromium, with JavaScript on and off."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from smartscheduling.policies.text import DATA_DIR, parse_policy


async def test_home_page_shell(page: Page, javascript: bool) -> None:
    response = await page.goto("/")
    assert response is not None
    assert response.status == 200
    await expect(page).to_have_title("Smart Scheduling")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Appointments made simple, privacy kept by design")
    await expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(page.get_by_role("contentinfo").get_by_role("link", name="Privacy policy")).to_be_visible()
    if javascript:  # htmx is loaded from our own origin and configured from the meta tag
        assert await page.evaluate("htmx.version") == "2.0.11"
        assert await page.evaluate("htmx.config.allowEval") is False
        assert await page.evaluate("htmx.config.historyCacheSize") == 0


async def test_skip_link_is_first_and_moves_focus_to_main(page: Page) -> None:
    await page.goto("/privacy")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/privacy#main$"))


async def test_privacy_policy_is_readable_and_navigable(page: Page) -> None:
    await page.goto("/")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    await expect(page).to_have_url(re.compile(r"/privacy$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Privacy Policy")
    headings = [
        section.heading
        for section in parse_policy((DATA_DIR / "privacy-v1.txt").read_text()).sections
        if section.heading
    ]
    await expect(
        page.get_by_role("main").get_by_role("heading", level=2).filter(has_not_text="On this page")
    ).to_have_text([*headings, "Where your data is stored"])
    await (
        page.get_by_role("navigation", name="On this page")
        .get_by_role("link", name="Storage of Personal Information")
        .click()
    )
    await expect(page).to_have_url(re.compile(r"/privacy#storage-of-personal-information$"))
    await expect(page.get_by_role("heading", name="Storage of Personal Information")).to_be_in_viewport()


async def test_not_found_page_in_the_browser(page: Page) -> None:
    response = await page.goto("/does-not-exist")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await page.get_by_role("link", name="Go to the home page").click()
    await expect(page).to_have_url(re.compile(r"/$"))


async def test_layout_fits_a_small_phone_with_touch_sized_targets(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/", "/privacy", "/does-not-exist"):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} scrolls sideways at 320 px ({width} px wide)"
        targets = page.locator("header a, footer a, .button, button, .toc a")
        for index in range(await targets.count()):
            box = await targets.nth(index).bounding_box()
            assert box is not None
            assert box["height"] >= 44, f"{path}: touch target {index} is {box['height']} px tall"


async def test_tablet_width_shows_the_cards_side_by_side(page: Page) -> None:
    await page.set_viewport_size({"width": 768, "height": 1024})
    await page.goto("/")
    boxes = [await card.bounding_box() for card in await page.locator(".card").all()]
    assert len(boxes) == 3
    assert all(box is not None for box in boxes)
    tops = {round(box["y"]) for box in boxes if box}
    assert len(tops) == 1, "cards should share one row at 768 px"
