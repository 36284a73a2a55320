"""Account flows in real Chromium, with JavaScript on (htmx swaps) and off (plain forms)."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.conftest import PASSWORD
from tests.mailbox import Mailbox


async def fill_signup(page: Page, *, email: str, born: str = "1990-04-23", country: str = "US") -> None:
    await page.goto("/signup")
    await page.get_by_label("Your name").fill("Ada Lovelace")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Date of birth").fill(born)
    await page.get_by_label("Country you live in").select_option(country)
    await page.get_by_label("I have read the privacy policy").check()


async def test_sign_up_verify_sign_in_and_out(page: Page, deliver, mailbox: Mailbox) -> None:
    await fill_signup(page, email="ada@example.com")
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/signup/sent$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    await deliver()
    (message,) = mailbox.to("ada@example.com")
    await page.goto(Mailbox.link(message, "/verify-email/"))
    await page.get_by_role("button", name="Confirm my address").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_role("status")).to_contain_text("your e-mail address is confirmed")

    await page.get_by_label("E-mail address").fill("ADA@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    sign_out = page.get_by_role("button", name="Sign out (Ada Lovelace)")
    await expect(sign_out).to_be_visible()
    await expect(page.get_by_text("Please confirm your e-mail address")).to_have_count(0)
    await sign_out.click()
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()


async def test_outside_the_us_the_transfer_must_be_acknowledged(page: Page, javascript: bool) -> None:
    await fill_signup(page, email="marie@example.com", country="FR")
    notice = page.get_by_role("group", name="If you live outside the United States")
    await expect(notice).to_be_visible()
    await page.get_by_role("button", name="Create account").click()
    error = page.get_by_text("please confirm you understand that your data is stored in the U.S.")
    await expect(error).to_be_visible()
    acknowledge = page.get_by_label("I understand that my data is transferred to and stored in the U.S.")
    await expect(acknowledge).to_be_focused()  # the first problem gets the focus
    await expect(page.get_by_label("E-mail address")).to_have_value("marie@example.com")
    await expect(page.get_by_label("Password")).to_have_value("")  # never sent back
    await page.get_by_label("Password").fill(PASSWORD)
    await acknowledge.check()
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r"/signup/sent$"))
    if javascript:  # with JavaScript the notice hides for U.S. residents; without, it simply stays
        await fill_signup(page, email="sam@example.com", country="US")
        await expect(notice).to_be_hidden()
        await page.get_by_label("Country you live in").select_option("DE")
        await expect(notice).to_be_visible()


async def test_errors_are_shown_in_place(page: Page, javascript: bool) -> None:
    await fill_signup(page, email="grace@example.com")
    await page.get_by_label("Password").fill("qwerty123456")
    await page.evaluate("window.unchanged = true") if javascript else None
    await page.get_by_role("button", name="Create account").click()
    password = page.get_by_label("Password")
    await expect(page.locator("#f-password-error")).to_have_text(
        "Error: This password appears in lists of leaked passwords. Please choose another."
    )
    await expect(password).to_be_focused()
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Your name")).to_have_value("Ada Lovelace")
    if javascript:  # swapped in place by htmx: the page itself was never reloaded
        assert await page.evaluate("window.unchanged") is True


async def test_a_child_is_turned_away_and_nothing_is_kept(page: Page, db_engine) -> None:
    from sqlalchemy import func, select

    from smartscheduling.accounts.models import User

    await fill_signup(page, email="kid@example.com", born="2015-06-01")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Sorry, you need to be 18 or older")).to_be_visible()
    await expect(page.get_by_text("We have not kept anything you entered")).to_be_visible()
    await expect(page.get_by_text("2015-06-01")).to_have_count(0)
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(User)) == 0


async def test_forgotten_password(page: Page, make_user, deliver, mailbox: Mailbox) -> None:
    user = await make_user(name="Katherine Johnson")
    await page.goto("/login")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    await deliver()
    await page.goto(Mailbox.link(mailbox.to(user.email)[0], "/password/reset/"))
    await page.get_by_role("textbox", name="New password").fill("orbital mechanics by hand")
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_label("Password").fill("orbital mechanics by hand")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out (Katherine Johnson)")).to_be_visible()


async def test_wrong_password_message(page: Page, make_user) -> None:
    user = await make_user()
    await page.goto("/login?next=/privacy")
    await page.get_by_label("E-mail address").fill(user.email)
    await page.get_by_label("Password").fill("not my password at all")
    await page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert").filter(has_text="do not match an account")
    await expect(alert).to_be_visible()
    await expect(alert).to_be_focused()
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/privacy$"))  # back where they were going


async def test_the_policy_checkbox_reads_as_one_sentence_on_a_small_screen(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 800})
    await page.goto("/signup")
    label = page.locator("label[for=f-accept_policy]")
    await expect(label).to_have_text(re.compile(r"^I have read the privacy policy \(version \d+\)\.$"))
    words, link = await label.bounding_box(), await label.get_by_role("link").bounding_box()
    assert words
    assert link
    assert link["x"] > words["x"]  # the link continues the sentence, not a column of its own
    assert await label.evaluate("element => element.innerText") == "I have read the privacy policy (version 1)."
