"""E-mail verification and password reset, following the links from delivered e-mails."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.guards import requires_verified_email
from smartscheduling.accounts.models import AccountStatus, AccountToken, User
from smartscheduling.app import create_app
from smartscheduling.config import Settings
from smartscheduling.db import utcnow
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, field_errors, is_signed_in, post_form, sign_in, statements
from tests.mailbox import Mailbox

NEW_PASSWORD = "purple elephants dance quietly"


@get("/_test/verified-only", guards=[requires_verified_email], sync_to_thread=False)
def verified_only() -> str:
    return "welcome, verified person"


def with_probe(app: Litestar) -> Litestar:
    app.register(verified_only)
    return app


async def signed_up(
    client: AsyncTestClient[Litestar], deliver, mailbox: Mailbox, email: str = "ada@example.com"
) -> str:
    await csrf_token(client, "/signup")
    await post_form(
        client, "/signup",
        {"name": "Ada", "email": email, "password": PASSWORD, "date_of_birth": "1990-01-01", "country": "US",
         "accept_policy": "true"},
    )  # fmt: skip
    await deliver()
    (message,) = mailbox.to(email)
    return Mailbox.link(message, "/verify-email/")


async def test_verifying_from_the_delivered_email(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    link = await signed_up(client, deliver, mailbox)
    await sign_in(client, "ada@example.com")
    home = (await client.get("/")).text
    assert "Please confirm your e-mail address" in home  # unverified: a banner on every page
    confirm_page = await client.get(link)
    assert confirm_page.status_code == 200
    assert "Confirm my address" in confirm_page.text
    async with db_engine.connect() as connection:  # looking at the page uses nothing up
        assert await connection.scalar(select(User.email_verified_at)) is None
    confirmed = await post_form(client, link, {})
    assert confirmed.headers["location"] == "/"
    home = (await client.get("/")).text
    assert "your e-mail address is confirmed" in home
    assert "Please confirm your e-mail address" not in home
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(User.email_verified_at)) is not None


async def test_a_verification_link_works_once(client: AsyncTestClient[Litestar], deliver, mailbox: Mailbox) -> None:
    link = await signed_up(client, deliver, mailbox)
    assert (await post_form(client, link, {})).headers["location"] == "/login"  # not signed in: to sign-in
    again = await post_form(client, link, {})
    assert again.status_code == 400
    assert "This link no longer works" in again.text
    assert (await client.get(link)).status_code == 400


async def test_an_expired_verification_link_is_refused(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    link = await signed_up(client, deliver, mailbox)
    async with db_engine.begin() as connection:
        await connection.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await post_form(client, link, {})).status_code == 400
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(User.email_verified_at)) is None


async def test_made_up_links_are_refused(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/verify-email/forged-token-value", "/password/reset/forged-token-value"):
        response = await client.get(path)
        assert response.status_code == 400
        assert "This link no longer works" in response.text


async def test_verified_only_features_wait_for_verification(settings: Settings, make_user) -> None:
    unverified = await make_user(email_verified_at=None)
    verified = await make_user()
    async with AsyncTestClient(app=with_probe(create_app(settings))) as client:
        await sign_in(client, unverified.email)
        refused = await client.get("/_test/verified-only")
        assert refused.status_code == 403
        assert "Please confirm your e-mail address first" in refused.text
        await post_form(client, "/logout", {})
        await sign_in(client, verified.email)
        assert (await client.get("/_test/verified-only")).text == "welcome, verified person"
        await post_form(client, "/logout", {})
        assert (await client.get("/_test/verified-only", follow_redirects=False)).headers["location"] == (
            "/login?next=%2F_test%2Fverified-only"
        )


async def test_asking_for_a_new_verification_link(
    client: AsyncTestClient[Litestar], make_user, deliver, mailbox: Mailbox
) -> None:
    user = await make_user(email_verified_at=None)
    await sign_in(client, user.email)
    response = await post_form(
        client, "/verify-email/resend", {}, headers={"referer": "http://testserver.local/privacy"}
    )
    assert response.headers["location"] == "/privacy"
    assert "We sent a new link to your e-mail address" in (await client.get("/privacy")).text
    await deliver()
    (message,) = mailbox.to(user.email)
    assert (await post_form(client, Mailbox.link(message, "/verify-email/"), {})).headers["location"] == "/"


async def test_password_reset_from_the_delivered_email_ends_every_session(
    client: AsyncTestClient[Litestar], settings: Settings, make_user, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    # Another device, served by another web process.
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as other_device:
        await sign_in(other_device, user.email)
        assert is_signed_in((await other_device.get("/")).text)

        await csrf_token(client, "/password/forgot")
        asked = await post_form(client, "/password/forgot", {"email": user.email})
        assert asked.headers["location"] == "/password/forgot/sent"
        await deliver()
        (message,) = mailbox.to(user.email)
        assert message["Subject"] == "Choose a new password"
        link = Mailbox.link(message, "/password/reset/")

        weak = await post_form(client, link, {"password": "password"})
        assert weak.status_code == 422
        assert field_errors(weak.text)["password"].startswith("Use at least 12 characters")
        done = await post_form(client, link, {"password": NEW_PASSWORD})
        assert done.headers["location"] == "/login"
        assert "Your password is changed" in (await client.get("/login")).text

        assert not is_signed_in((await other_device.get("/")).text)  # signed out everywhere
    assert (await sign_in(client, user.email, PASSWORD)).status_code == 422
    assert (await sign_in(client, user.email, NEW_PASSWORD)).status_code == 303
    await deliver()
    assert [m["Subject"] for m in mailbox.to(user.email)] == ["Choose a new password", "Your password was changed"]
    assert (await post_form(client, link, {"password": "another fine passphrase"})).status_code == 400  # used up


async def test_reset_asks_give_one_answer_and_links_only_to_real_accounts(
    client: AsyncTestClient[Litestar], make_user, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    suspended = await make_user(status=AccountStatus.SUSPENDED)
    await csrf_token(client, "/password/forgot")
    known = await post_form(client, "/password/forgot", {"email": user.email})
    unknown = await post_form(client, "/password/forgot", {"email": "nobody@example.com"})
    refused = await post_form(client, "/password/forgot", {"email": suspended.email})
    assert {r.headers["location"] for r in (known, unknown, refused)} == {"/password/forgot/sent"}
    await deliver()
    (link,) = mailbox.to(user.email)
    assert "/password/reset/" in Mailbox.text(link)
    for address in ("nobody@example.com", suspended.email):
        (told,) = mailbox.to(address)
        assert told["Subject"] == "About your password reset request"
        assert "no active account uses it" in Mailbox.text(told)
        assert "/password/reset/" not in Mailbox.text(told)


async def test_a_reset_request_does_the_same_work_whether_or_not_the_account_exists(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    """Timing must not tell existing addresses from unknown ones (it did: about 18 vs
    13 ms). Both write one e-mail and one audit event in one transaction; the only extra
    statement for a real account is its link's row."""
    user = await make_user()
    await csrf_token(client, "/password/forgot")
    with statements() as sent:
        await post_form(client, "/password/forgot", {"email": user.email})
        known, sent[:] = [" ".join(s.split()[:3]) for s in sent], []
        await post_form(client, "/password/forgot", {"email": "nobody@example.com"})
        unknown = [" ".join(s.split()[:3]) for s in sent]
    extra = list(known)
    for statement in unknown:
        extra.remove(statement)
    assert extra == ["INSERT INTO account_token"]


async def test_reset_links_expire_after_an_hour(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    await csrf_token(client, "/password/forgot")
    await post_form(client, "/password/forgot", {"email": user.email})
    async with db_engine.connect() as connection:
        token = (await connection.execute(select(AccountToken))).one()
    assert timedelta(minutes=59) < token.expires_at - token.created_at <= timedelta(hours=1)
    async with db_engine.begin() as connection:
        await connection.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await deliver()
    link = Mailbox.link(mailbox.to(user.email)[0], "/password/reset/")
    assert (await client.get(link)).status_code == 400
    assert (await post_form(client, link, {"password": NEW_PASSWORD})).status_code == 400


async def test_one_address_gets_only_a_few_reset_mails_an_hour(
    client: AsyncTestClient[Litestar], make_user, deliver, mailbox: Mailbox
) -> None:
    user = await make_user()
    await csrf_token(client, "/password/forgot")
    for _ in range(5):
        response = await post_form(client, "/password/forgot", {"email": user.email})
        assert response.headers["location"] == "/password/forgot/sent"  # the same answer every time
    await deliver()
    assert len(mailbox.to(user.email)) == 3
