"""Policies in real Chromium, with JavaScript on (htmx) and off (plain forms and links)."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.models import Role
from smartscheduling.mail.delivery import SmtpSender, deliver_due
from smartscheduling.policies.models import PolicyKind
from smartscheduling.policies.text import DATA_DIR
from tests.conftest import PASSWORD
from tests.helpers import publish
from tests.mailbox import Mailbox
from tests.policies.test_campaigns import write_all

EDITED = (DATA_DIR / "privacy-v1.txt").read_text().replace("we use a secured", "we only use a secured")


async def sign_in_as(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name=re.compile("^Sign out"))).to_be_visible()


async def test_history_and_diff(page: Page, db_engine: AsyncEngine) -> None:
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, summary="Only HTTPS, always.")
    await page.goto("/privacy/history")
    await expect(page.get_by_role("row", name=re.compile("Version 2"))).to_contain_text("Only HTTPS, always.")
    await page.get_by_role("link", name="Changes from version 1").click()
    await expect(page).to_have_url(re.compile(r"/privacy/diff\?from=1&to=2$"))
    inserted = page.locator(".policy-diff ins").first
    await expect(inserted).to_have_text(re.compile(r"Added: only"))
    await expect(page.get_by_text("1 paragraph changed")).to_be_visible()
    # Any two versions, from the form on the page (a GET form: the same with or without JavaScript).
    await page.get_by_label("Older version").select_option("2")
    await page.get_by_label("Newer version").select_option("1")
    await page.get_by_role("button", name="Compare").click()
    await expect(page).to_have_url(re.compile(r"from=2&to=1$"))
    await expect(page.locator(".policy-diff del").first).to_have_text(re.compile(r"Removed: only"))


async def test_the_change_notice_stays_until_acknowledged(page: Page, make_user, db_engine: AsyncEngine) -> None:
    member = await make_user()
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await sign_in_as(page, member.email)
    notice = page.locator("#policy-notice-privacy")
    await expect(notice).to_contain_text("Our privacy policy changed on")
    await page.goto("/profile")
    await expect(notice).to_be_visible()  # on every page until acknowledged
    await notice.get_by_role("link", name="See what changed").click()
    await expect(page).to_have_url(re.compile(r"/privacy/diff\?from=1&to=2$"))
    await page.get_by_role("button", name="I have read it").click()
    await expect(page.locator("#policy-notice-privacy")).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"/privacy/diff\?from=1&to=2$"))  # still where they were
    await page.goto("/profile/data")
    await expect(page.get_by_role("main")).to_contain_text("(notice)")


async def publish_through_the_editor(
    page: Page, kind_label: str, text: str, *, significant: bool, number: int = 2
) -> None:
    await page.goto("/staff/policies")
    await page.get_by_role("button", name=f"New draft of the {kind_label}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Draft of the {kind_label}")
    await page.get_by_label("Policy text").fill(text)
    await page.get_by_label("Summary of changes").fill("Clearer about encryption.")
    if significant:
        await page.get_by_label(re.compile("This is a significant change")).check()
    await page.get_by_role("button", name="Save draft and preview").click()
    await expect(page.get_by_role("heading", name=f"Changes against version {number - 1}")).to_be_visible()
    await expect(page.locator(".policy-diff ins").first).to_be_visible()
    await page.get_by_role("button", name=f"Publish version {number}").click()


async def test_officer_publishes_a_significant_change_and_watches_the_progress(
    page: Page, javascript: bool, make_user, db_engine: AsyncEngine, mailbox: Mailbox
) -> None:
    await make_user()
    await make_user()
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in_as(page, officer.email)
    await publish_through_the_editor(page, "privacy policy", EDITED, significant=True)
    await expect(page).to_have_url(re.compile(r"/staff/campaigns/"))
    await expect(page.locator("#count-total")).to_have_text("3")
    await expect(page.locator("#count-sent")).to_have_text("0")
    await expect(page.get_by_role("link", name="Refresh")).to_have_count(0 if javascript else 1)
    await write_all(db_engine, batch_size=2)
    await deliver_due(db_engine, SmtpSender(mailbox.url), mail_from="x@smartscheduling.com")
    if not javascript:
        await page.get_by_role("link", name="Refresh").click()
    # With JavaScript the bar updates itself (htmx polling); without, after "Refresh".
    await expect(page.locator("#count-sent")).to_have_text("3")
    await expect(page.locator("progress#campaign-bar")).to_have_attribute("value", "3")
    await expect(page.locator(".campaign-status")).to_have_text("Finished: 3 sent.")
    await expect(page.get_by_role("link", name="Refresh")).to_have_count(0)  # nothing left to wait for
    if javascript:  # the page's live region announces the end: it was there all along, now with words
        await expect(page.locator("#campaign-announce[role=status]")).to_have_text("The e-mail is finished: 3 sent.")
    assert len(mailbox.messages) == 3


async def test_publishing_the_cookie_policy_brings_the_banner_back(
    page: Page, browser, live_url: str, make_user
) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    officer_context = await browser.new_context(base_url=live_url)
    try:
        desk = await officer_context.new_page()
        await sign_in_as(desk, officer.email)
        text = (DATA_DIR / "cookies-v1.txt").read_text() + "\nWe now count visits per hour.\n"
        await publish_through_the_editor(desk, "cookie policy", text, significant=False)
        await page.goto("/")
        await page.get_by_role("button", name="Accept all").click()
        await expect(page.get_by_role("button", name="Accept all")).to_have_count(0)
        await publish_through_the_editor(desk, "cookie policy", text + "\nAnd per day.\n", significant=False, number=3)
        await expect(desk).to_have_url(re.compile(r"/cookies/policy/v/3$"))
    finally:
        await officer_context.close()
    await page.goto("/")
    banner = page.get_by_role("region", name="Cookies on Smart Scheduling")
    await expect(banner).to_contain_text("Our cookie policy has changed")
