"""A pending change of address must not outlive what the owner does to lock an intruder
out: a password change or reset voids it, and the owner can stop it from the Profile and
from the warning e-mail (issue 12, item 1)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.models import AccountToken, User
from smartscheduling.app import create_app
from smartscheduling.config import Settings
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, post_form, sign_in
from tests.mailbox import Mailbox
from tests.profile.test_credentials import NEW_PASSWORD, change_email, fetch

INTRUDER = "intruder@example.net"


def another_device(settings: Settings) -> AsyncTestClient[Litestar]:
    """A browser elsewhere, served by another web process."""
    return AsyncTestClient(app=create_app(settings), base_url="http://testserver.local")


@dataclass
class PendingChange:
    owner: User
    #: The link the intruder receives at their own address.
    confirm: str
    #: The link in the warning the owner receives at the account's address.
    cancel: str


@pytest.fixture
async def pending(settings: Settings, make_user, deliver, mailbox: Mailbox) -> PendingChange:
    """Someone who knows the password asked to move the owner's account to their address."""
    owner = await make_user(email="owner@example.com")
    async with another_device(settings) as intruder:
        await sign_in(intruder, owner.email)
        assert (await change_email(intruder, INTRUDER)).status_code == 303
    await deliver()
    (confirmation,) = mailbox.to(INTRUDER)
    (warning,) = mailbox.to(owner.email)
    return PendingChange(
        owner, Mailbox.link(confirmation, "/profile/email/confirm/"), Mailbox.link(warning, "/profile/email/cancel/")
    )


async def change_password(client: AsyncTestClient[Litestar], email: str) -> None:
    await sign_in(client, email)
    changed = await post_form(
        client, "/profile/edit/password", {"version": "1", "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 303


async def test_a_password_change_voids_the_pending_change_of_address(
    settings: Settings, client: AsyncTestClient[Litestar], db_engine: AsyncEngine, pending: PendingChange
) -> None:
    await change_password(client, pending.owner.email)
    async with another_device(settings) as intruder:
        assert (await intruder.get(pending.confirm)).status_code == 400
        await csrf_token(intruder, "/login")
        assert (await post_form(intruder, pending.confirm, {})).status_code == 400
    assert (await fetch(db_engine, pending.owner)).email == "owner@example.com"
    assert "Waiting for you to confirm" not in (await client.get("/profile")).text


async def test_a_password_reset_voids_the_pending_change_of_address(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, pending: PendingChange, deliver, mailbox: Mailbox
) -> None:
    await csrf_token(client, "/password/forgot")
    await post_form(client, "/password/forgot", {"email": pending.owner.email})
    await deliver()
    (reset,) = [m for m in mailbox.to(pending.owner.email) if m["Subject"] == "Choose a new password"]
    done = await post_form(client, Mailbox.link(reset, "/password/reset/"), {"password": NEW_PASSWORD})
    assert done.headers["location"] == "/login"

    assert (await post_form(client, pending.confirm, {})).status_code == 400
    assert (await fetch(db_engine, pending.owner)).email == "owner@example.com"


async def test_a_link_sent_before_a_password_change_is_dead_even_if_not_marked_used(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, pending: PendingChange
) -> None:
    """Defence in depth: the session epoch alone kills the link, should anything ever
    leave it unmarked."""
    await change_password(client, pending.owner.email)
    async with db_engine.begin() as connection:
        await connection.execute(update(AccountToken).values(used_at=None))
    assert (await post_form(client, pending.confirm, {})).status_code == 400
    assert (await fetch(db_engine, pending.owner)).email == "owner@example.com"


async def test_the_owner_stops_a_pending_change_from_the_profile(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, pending: PendingChange
) -> None:
    await sign_in(client, pending.owner.email)
    page = (await client.get("/profile")).text
    assert f"Waiting for you to confirm <strong>{INTRUDER}</strong>" in page
    assert 'action="/profile/email/cancel"' in page

    stopped = await post_form(client, "/profile/email/cancel", {})
    assert stopped.headers["location"] == "/profile#row-email"
    page = (await client.get("/profile")).text
    assert "The change of address is stopped" in page
    assert "Waiting for you to confirm" not in page
    assert (await post_form(client, pending.confirm, {})).status_code == 400
    assert (await fetch(db_engine, pending.owner)).email == "owner@example.com"


async def test_the_warning_email_stops_the_change_without_signing_in(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, pending: PendingChange
) -> None:
    shown = await client.get(pending.cancel)  # opening the link (a mail scanner) changes nothing
    assert shown.status_code == 200
    assert "Keep my address" in shown.text
    stopped = await post_form(client, pending.cancel, {})
    assert stopped.headers["location"] == "/password/forgot"
    assert "The change is stopped" in (await client.get("/password/forgot")).text
    assert (await post_form(client, pending.confirm, {})).status_code == 400
    assert (await post_form(client, pending.cancel, {})).status_code == 400  # the link works once
    assert (await fetch(db_engine, pending.owner)).email == "owner@example.com"
