"""Changing the e-mail address and the password from the profile: both need the current
password; the new address must be confirmed and the old one is told; a new password ends
every other session."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import User
from tests.conftest import PASSWORD
from tests.helpers import field_errors, is_signed_in, post_form, sign_in
from tests.mailbox import Mailbox
from tests.security.test_sessions import digest, stored_keys

NEW_PASSWORD = "a brand new passphrase 42"


async def fetch(engine: AsyncEngine, user: User) -> User:
    async with AsyncSession(engine) as session:
        found = await session.get(User, user.id)
        assert found is not None
        return found


async def change_email(client: AsyncTestClient[Litestar], email: str, password: str = PASSWORD, **extra: str):
    return await post_form(
        client, "/profile/edit/email", {"version": "1", "email": email, "current_password": password, **extra}
    )


async def test_a_new_address_is_used_only_once_confirmed_and_the_old_one_is_told(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    user = await make_user(email="old@example.com")
    await sign_in(client, user.email)
    response = await change_email(client, "New@Example.com")
    assert response.status_code == 303
    page = (await client.get("/profile")).text
    assert "We sent a link to new@example.com" in page
    assert "Waiting for you to confirm <strong>new@example.com</strong>" in page
    assert (await fetch(db_engine, user)).email == "old@example.com"

    await deliver()
    (confirm,) = mailbox.to("new@example.com")
    (told,) = mailbox.to("old@example.com")
    assert told["Subject"] == "A new e-mail address was requested for your account"
    assert "new@example.com" in Mailbox.text(told)
    link = Mailbox.link(confirm, "/profile/email/confirm/")
    assert "Confirm" in (await client.get(link)).text  # opening the link changes nothing yet
    assert (await fetch(db_engine, user)).email == "old@example.com"

    confirmed = await post_form(client, link, {})
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/profile#row-email"
    changed = await fetch(db_engine, user)
    assert (changed.email, changed.profile_version) == ("new@example.com", 2)
    assert changed.email_verified_at is not None
    await deliver()
    (notice,) = [m for m in mailbox.to("old@example.com") if m["Subject"] == "Your e-mail address was changed"]
    assert "new@example.com" in Mailbox.text(notice)

    again = await post_form(client, link, {})
    assert again.status_code == 400  # the link works once


async def test_changing_the_address_needs_the_current_password(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    for htmx in (False, True):
        response = await post_form(
            client,
            "/profile/edit/email",
            {"version": "1", "email": "elsewhere@example.com", "current_password": "not my password at all"},
            htmx=htmx,
        )
        assert response.status_code == 422
        assert field_errors(response.text)["current_password"] == "That is not your current password."
        assert "not my password at all" not in response.text
        assert 'value="elsewhere@example.com"' in response.text
    missing = await change_email(client, "elsewhere@example.com", password="")
    assert field_errors(missing.text)["current_password"] == "Enter your current password to confirm it is you."
    assert (await deliver()).sent == 0
    assert (await fetch(db_engine, user)).email == user.email


async def test_a_taken_address_gets_the_same_answer_and_its_owner_is_told(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    owner = await make_user(email="taken@example.com")
    await sign_in(client, user.email)
    response = await change_email(client, "taken@example.com")
    assert response.status_code == 303
    assert "We sent a link to taken@example.com" in (await client.get("/profile")).text
    await deliver()
    (warning,) = mailbox.to("taken@example.com")
    assert "/profile/email/confirm/" not in Mailbox.text(warning)
    assert (await fetch(db_engine, user)).email == user.email
    assert (await fetch(db_engine, owner)).email == "taken@example.com"


async def test_a_new_password_ends_every_other_session(
    app: Litestar, make_user, db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    async with AsyncTestClient(app) as other_device:
        await sign_in(other_device, user.email)
        cookie = other_device.cookies["session"]
    async with AsyncTestClient(app) as client:
        await sign_in(client, user.email)
        assert len(await stored_keys(db_engine)) == 2
        response = await post_form(
            client,
            "/profile/edit/password",
            {"version": "1", "current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 303
        assert is_signed_in((await client.get("/profile")).text)  # this device stays in, under a new id
        assert await stored_keys(db_engine) == [digest(client.cookies["session"])]
    async with AsyncTestClient(app) as other_device:
        other_device.cookies.set("session", cookie, domain="testserver.local")
        assert not is_signed_in((await other_device.get("/")).text)
        assert (await sign_in(other_device, user.email, NEW_PASSWORD)).status_code == 303
    await deliver()
    assert [m["Subject"] for m in mailbox.to(user.email)] == ["Your password was changed"]


async def test_a_new_password_is_checked_like_at_sign_up(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user(email="grace@example.com")
    await sign_in(client, user.email)
    cases = {
        "short": "at least 12 characters",
        PASSWORD: "different from the current one",
        "password1234": "lists of leaked passwords",
        "grace-grace-grace": "your e-mail address",
    }
    for new, message in cases.items():
        response = await post_form(
            client, "/profile/edit/password", {"version": "1", "current_password": PASSWORD, "new_password": new}
        )
        assert response.status_code == 422
        assert message in field_errors(response.text)["new_password"]
        assert new not in response.text.replace("grace@example.com", "")


async def test_password_guessing_through_the_profile_is_throttled(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    statuses = []
    for _ in range(6):
        response = await post_form(
            client,
            "/profile/edit/password",
            {"version": "1", "current_password": "wrong guess number x", "new_password": NEW_PASSWORD},
        )
        statuses.append(response.status_code)
    assert statuses == [422] * 5 + [429]
    assert "Retry-After" in response.headers
