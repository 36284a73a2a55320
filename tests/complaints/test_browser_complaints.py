"""A privacy complaint in Chromium, JavaScript on and off: from the privacy policy to the
form, the acknowledgement over SMTP, the privacy officer's reply, and the complainant
reading it through the private link."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from smartscheduling.accounts.models import Role
from tests.mailbox import Mailbox
from tests.policies.test_browser_policies import sign_in_as

DETAILS = "My reminder for 14 December went to someone else's address."


async def test_complain_get_the_acknowledgement_and_read_the_reply_through_the_private_link(
    page: Page, javascript: bool, make_user, deliver, mailbox: Mailbox
) -> None:
    del javascript  # runs with JavaScript on and off
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Olga Officer")
    await page.goto("/privacy")
    await page.get_by_role("link", name="Make a privacy complaint").click()
    await page.get_by_label("Your name").fill("Pia Plaintiff")
    await page.get_by_role("button", name="Send the complaint").click()  # the address and details are missing
    await expect(page.get_by_text(re.compile("^Error: .*e-mail address", re.IGNORECASE))).to_be_visible()
    await expect(page.get_by_label("Your name")).to_have_value("Pia Plaintiff")
    await page.get_by_label("E-mail address").fill("pia@example.com")
    await page.get_by_label("What happened").fill(DETAILS)
    await page.get_by_role("button", name="Send the complaint").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Privacy complaint PC-\d{4}-0001$"))
    await expect(page.get_by_text("We sent an acknowledgement to pia@example.com")).to_be_visible()

    await deliver()
    (acknowledgement,) = mailbox.to("pia@example.com")
    assert re.fullmatch(r"Your privacy complaint PC-\d{4}-0001 is received", acknowledgement["Subject"])
    private = Mailbox.link(acknowledgement, "/privacy/complaints/follow/")

    await sign_in_as(page, officer.email)
    await page.get_by_role("link", name="Complaints").click()
    await page.get_by_role("link", name=re.compile(r"^PC-\d{4}-0001$")).click()
    await page.get_by_label("Reply", exact=True).fill("We found the cause: an old address. It is corrected.")
    await page.get_by_role("button", name="Send the reply").click()
    await expect(page.get_by_text("Reply sent to the complainant.")).to_be_visible()
    await page.get_by_role("button", name=re.compile("^Sign out")).click()

    await page.goto(private)
    await expect(page.get_by_text("We found the cause: an old address. It is corrected.")).to_be_visible()
    await expect(page.get_by_text(re.compile("^given "))).to_be_visible()  # the first response is given
    await page.get_by_label("Your message").fill("Thank you.")
    await page.get_by_role("button", name="Add to my complaint").click()
    await expect(page.get_by_text("Added to your complaint: we will read it.")).to_be_visible()
    await expect(page.get_by_text("Thank you.", exact=True)).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
