"""Every page, as every kind of visitor, checked by axe-core (WCAG 2.2 AA rules) in real
Chromium: with the cookie banner shown and dismissed, at 320 and 1024 px. At 320 px no
page scrolls sideways, also with the text at 200 %."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from axe_playwright_python.async_playwright import Axe
from litestar import Litestar
from playwright.async_api import Browser, Page

from smartscheduling.accounts.models import Role
from tests.conftest import PASSWORD
from tests.security.routes import PEOPLE, routes

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
WIDTHS = (320, 1024)
#: Routes that answer no HTML page of their own.
NOT_PAGES = {"/cookies/receipt", "/healthz", "/readyz", "/static/{file_path:path}"}
axe = Axe()
#: Controls and standalone links (a paragraph that is only a link, a link in a table cell)
#: shorter than the 44 px the project promises. Links inside sentences are exempt.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    "button, a.button, a.standalone, td > a, th > a, p > a:only-child, li > a:only-child")]
  .filter(el => el.offsetParent !== null && !el.closest(".visually-hidden"))
  .filter(el => el.tagName !== "A" || el.matches(".button, .standalone, td > a, th > a")
    || el.parentElement.textContent.trim() === el.textContent.trim())
  .filter(el => el.getBoundingClientRect().height < 43.5)
  .map(el => el.textContent.trim().slice(0, 40))"""


def page_paths(app: Litestar, role: Role | None) -> list[str]:
    return sorted(
        {
            route.path
            for route in routes(app)
            if route.method == "GET" and route.template not in NOT_PAGES and route.admits(role)
        }
    )


def describe(violations: list[dict]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {', '.join(str(node['target']) for node in v['nodes'][:3])}" for v in violations
    )


async def check(page: Page, where: str, problems: list[str]) -> None:
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        results = await axe.run(page, options=AXE_OPTIONS)
        if results.response["violations"]:
            problems.append(f"{where} at {width}px: {describe(results.response['violations'])}")
        if small := await page.evaluate(SMALL_TARGETS):
            problems.append(f"{where} at {width}px: targets under 44 px: {small}")
        if width == 320:
            for size in ("100%", "200%"):
                await page.evaluate(f"document.documentElement.style.fontSize = {size!r}")
                overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems.append(f"{where} at 320px, text {size}: {overflow}px wider than the screen")
            await page.evaluate("document.documentElement.style.fontSize = ''")


@pytest.fixture(params=PEOPLE, ids=lambda role: role.value if role else "signed-out")
def role(request: pytest.FixtureRequest) -> Role | None:
    return request.param


@pytest.fixture
async def visitor(backend: str, browser: Browser, live_url: str, make_user, role: Role | None) -> AsyncIterator[Page]:
    """A browser tab of someone with ``role`` (signed in), or signed out."""
    if backend != "postgresql":
        pytest.skip("what a page looks like does not depend on the database: checked once, on PostgreSQL")
    context = await browser.new_context(base_url=live_url)
    page = await context.new_page()
    if role is not None:
        user = await make_user(email=f"{role.value}@example.com", role=role)
        await page.goto("/login")
        await page.get_by_label("E-mail address").fill(user.email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(r"/$"))
    yield page
    await context.close()


async def test_every_page_passes_axe_and_fits_a_small_screen(app: Litestar, visitor: Page, role: Role | None) -> None:
    problems: list[str] = []
    paths = page_paths(app, role)
    for banner in ("banner shown", "banner dismissed"):
        if banner == "banner dismissed":
            await visitor.goto("/")
            await visitor.get_by_role("button", name="Reject all").click()
            await visitor.get_by_role("region", name="Cookies on Smart Scheduling").wait_for(state="detached")
        for path in paths:
            await visitor.goto(path)
            await check(visitor, f"{path} ({banner})", problems)
    assert not problems, "\n".join(problems)


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``rgb(r, g, b)`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(value) / 255 for value in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_the_focus_ring_stands_out_on_the_page_and_on_buttons(page: Page, javascript: bool) -> None:
    """Two tones, each at least 3:1 against what it touches: the dark ring against the
    page and the amber halo, whatever the focused element's own colour."""
    del javascript  # the same with and without
    await page.goto("/login")
    page_colour = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    for target in ("Forgot your password?", "Sign in"):
        for _ in range(60):  # the keyboard's own way to the control
            await page.keyboard.press("Tab")
            focused = await page.evaluate("document.activeElement.textContent.trim()")
            if focused == target and await page.evaluate("document.activeElement.tagName") in {"A", "BUTTON"}:
                break
        else:
            pytest.fail(f"Tab never reached {target!r}")
        style = await page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor]; }"
        )
        outline_style, outline_width, ring, halo, own = style
        assert outline_style == "solid", target
        assert float(outline_width.removesuffix("px")) >= 2, target
        halo_colour = re.match(r"rgba?\([^)]*\)", halo)
        assert halo_colour, f"no halo on {target}: {halo}"
        assert contrast(ring, halo_colour[0]) >= 3, target
        assert contrast(ring, page_colour) >= 3, target
        if own != "rgba(0, 0, 0, 0)":  # a filled button: one of the two tones stands out on its fill
            assert max(contrast(halo_colour[0], own), contrast(ring, own)) >= 3, target
