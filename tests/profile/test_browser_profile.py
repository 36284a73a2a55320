"""The Profile section in real Chromium, with JavaScript on (rows swap in place) and off
(plain pages that post and come back)."""

from __future__ import annotations

import io
import json
import re
import zipfile

from playwright.async_api import Page, expect

from smartscheduling.accounts.models import User
from tests.conftest import PASSWORD
from tests.mailbox import Mailbox


async def sign_in(page: Page, user: User) -> None:
    await page.goto("/login?next=/profile")
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/profile$"))


async def test_editing_a_row(page: Page, javascript: bool, make_user) -> None:
    user = await make_user(phone="+14155550123")
    await sign_in(page, user)
    row = page.locator("#row-phone")
    await expect(row).to_contain_text("+14155550123")

    await page.get_by_role("link", name="Edit phone number").click()
    phone = page.get_by_role("textbox", name="Phone number (optional)")
    await expect(phone).to_be_focused()
    await expect(page).to_have_url(re.compile(r"/profile$" if javascript else r"/profile/edit/phone$"))
    await phone.fill("12345")
    await page.get_by_role("button", name="Save phone number").click()
    await expect(page.get_by_text("Enter a phone number we can call")).to_be_visible()
    await expect(phone).to_have_value("12345")  # the input is kept
    await expect(phone).to_be_focused()

    await phone.fill("(415) 555-0199")
    await page.get_by_role("button", name="Save phone number").click()
    await expect(page).to_have_url(re.compile(r"/profile(#row-phone)?$"))
    await expect(page.locator("#row-phone")).to_contain_text("+14155550199")
    # The confirmation is in the row the page is scrolled to, with or without JavaScript …
    await expect(page.locator("#row-phone .saved")).to_have_text("Phone number: saved.")
    if javascript:
        # … announced by the page's one live region, and the keyboard is back on the row's own button.
        await expect(page.locator("#alerts[aria-live=polite]")).to_have_text("Phone number: saved.")
        await expect(page.get_by_role("link", name="Edit phone number")).to_be_focused()
    else:
        await expect(page.locator("#alerts")).not_to_contain_text("Phone number: saved.")


async def test_cancel_keeps_the_value(page: Page, javascript: bool, make_user) -> None:
    user = await make_user(postal_address="1 Main St")
    await sign_in(page, user)
    await page.get_by_role("link", name="Edit postal address").click()
    await page.get_by_role("textbox", name="Postal address (optional)").fill("Somewhere else entirely")
    await page.get_by_role("link", name="Cancel").click()
    await expect(page.locator("#row-postal_address")).to_contain_text("1 Main St")
    await expect(page.get_by_role("textbox", name="Postal address (optional)")).to_have_count(0)
    if javascript:
        await expect(page.get_by_role("link", name="Edit postal address")).to_be_focused()


async def test_clearing_an_optional_field_with_the_keyboard(page: Page, make_user) -> None:
    user = await make_user(phone="+14155550123")
    await sign_in(page, user)
    await page.get_by_role("link", name="Edit phone number").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("textbox", name="Phone number (optional)")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.press("Enter")  # submits the form
    await expect(page.locator("#row-phone")).to_contain_text("Not given")


async def test_your_data_export_and_closing(page: Page, make_user, deliver, mailbox: Mailbox) -> None:
    user = await make_user(name="Ada Lovelace", email="ada@example.com")
    await sign_in(page, user)
    await page.get_by_role("link", name="See everything we hold, and who opened it").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    await expect(page.get_by_role("rowheader", name="Your account and profile")).to_be_visible()

    await page.goto("/profile")
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download everything we hold (ZIP)").click()
    download = await info.value
    archive = zipfile.ZipFile(io.BytesIO((await download.path()).read_bytes()))
    assert json.loads(archive.read("data.json"))["sections"]["account"]["rows"][0]["email"] == "ada@example.com"

    await page.get_by_role("link", name="Close your account").click()
    await page.get_by_label("Your password").fill("not my password")
    await page.get_by_role("button", name="Close my account and erase my data").click()
    await expect(page.get_by_text("That is not your current password.")).to_be_visible()
    await page.get_by_label("Your password").fill(PASSWORD)
    await page.get_by_role("button", name="Close my account and erase my data").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_role("status")).to_contain_text("Your account is closed")
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    await deliver()
    assert [m["Subject"] for m in mailbox.to("ada@example.com")] == ["Your account is closed"]
