"""Sign-in and sign-out: no enumeration, equal cost, re-hash on login, throttling, no open redirect."""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.models import AccountStatus, User
from smartscheduling.app import create_app
from smartscheduling.audit.models import AuditEvent
from smartscheduling.security import passwords
from tests.conftest import PASSWORD, make_settings
from tests.helpers import csrf_token, field_errors, form_error, is_signed_in, post_form, sign_in

NO_MATCH = "That e-mail address and password do not match an account. Check both and try again."


async def audit_actions(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list(await connection.scalars(select(AuditEvent.action).order_by(AuditEvent.occurred_at)))


async def test_sign_in_and_out(client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user) -> None:
    user = await make_user(name="Grace Hopper")
    response = await sign_in(client, user.email.upper())  # addresses are case-insensitive
    assert response.status_code == 303
    page = (await client.get("/")).text
    assert is_signed_in(page)
    assert "Grace Hopper" in page
    await post_form(client, "/logout", {})
    assert not is_signed_in((await client.get("/")).text)
    assert await audit_actions(db_engine) == ["auth.login", "auth.logout"]


async def test_unknown_address_and_wrong_password_look_the_same(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user()
    unknown = await sign_in(client, "nobody@example.com")
    wrong = await sign_in(client, user.email, "not the password at all")
    assert unknown.status_code == wrong.status_code == 422
    assert form_error(unknown.text) == form_error(wrong.text) == NO_MATCH
    assert not is_signed_in(wrong.text)


async def test_unknown_and_known_addresses_cost_one_hash_each(
    client: AsyncTestClient[Litestar], make_user, derivations: list[int]
) -> None:
    """Equal work, hence equal timing: one PBKDF2 at the policy's iterations either way."""
    user = await make_user()
    await sign_in(client, "nobody@example.com")
    assert derivations == [1_200_000]
    derivations.clear()
    await sign_in(client, user.email, "wrong password here")
    assert derivations == [1_200_000]


async def test_an_old_hash_is_upgraded_and_saved_at_login(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    salt = b"sixteen byte slt"
    digest = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 600_000)
    old = f"pbkdf2_sha256$600000${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    user = await make_user(password_hash=old)
    assert (await sign_in(client, user.email)).status_code == 303
    async with db_engine.connect() as connection:
        saved = await connection.scalar(select(User.password_hash).where(User.id == user.id))
    assert saved.startswith("pbkdf2_sha256$1200000$")
    assert passwords.PasswordHasher().verify_sync(PASSWORD, saved)
    assert "auth.password_rehashed" in await audit_actions(db_engine)


async def test_a_suspended_account_cannot_sign_in(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user(status=AccountStatus.SUSPENDED)
    response = await sign_in(client, user.email)
    assert response.status_code == 422
    assert "This account is suspended" in form_error(response.text)
    assert "session" not in client.cookies


async def test_malformed_sign_in_input(client: AsyncTestClient[Litestar]) -> None:
    await csrf_token(client)
    response = await post_form(client, "/login", {"email": "not an address", "password": ""})
    assert response.status_code == 422
    assert field_errors(response.text) == {
        "email": "Enter an e-mail address like name@example.com.",
        "password": "Please fill in password.",
    }


async def test_attempts_on_one_account_are_throttled_and_the_answer_reveals_nothing(
    client: AsyncTestClient[Litestar], make_user
) -> None:
    user = await make_user()
    for _ in range(5):
        assert (await sign_in(client, user.email, "guess number one two")).status_code == 422
        assert (await sign_in(client, "nobody@example.com", "guess number one two")).status_code == 422
    for email in (user.email, "nobody@example.com"):
        blocked = await sign_in(client, email, PASSWORD)  # even the right password must wait
        assert blocked.status_code == 429
        assert form_error(blocked.text).startswith("Too many sign-in attempts. Please wait 15 minutes")
        assert 800 < int(blocked.headers["retry-after"]) <= 900
    assert not is_signed_in((await client.get("/")).text)


async def test_a_successful_sign_in_clears_the_account_counter(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user()
    for _ in range(4):
        await sign_in(client, user.email, "guess number one two")
    assert (await sign_in(client, user.email)).status_code == 303
    await post_form(client, "/logout", {})
    for _ in range(4):
        assert (await sign_in(client, user.email, "guess number one two")).status_code == 422
    assert (await sign_in(client, user.email)).status_code == 303


async def test_the_account_throttle_holds_across_processes(db_url: str, tmp_path: Path, make_user) -> None:
    user = await make_user()
    settings = make_settings(db_url, tmp_path)
    async with (
        AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as first,
        AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as second,
    ):
        for client in (first, second, first, second, first):
            assert (await sign_in(client, user.email, "wrong guess again")).status_code == 422
        assert (await sign_in(second, user.email)).status_code == 429


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/privacy", "/privacy"),
        ("/privacy?section=cookies", "/privacy?section=cookies"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
async def test_next_only_leads_to_local_pages(
    client: AsyncTestClient[Litestar], make_user, target: str, landing: str
) -> None:
    user = await make_user()
    response = await sign_in(client, user.email, next_page=target)
    assert response.headers["location"] == landing


async def test_the_login_page_carries_next_along(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/login?next=/privacy")).text
    assert '<input type="hidden" name="next" value="/privacy">' in page
    page = (await client.get("/login?next=https://evil.example")).text
    assert '<input type="hidden" name="next" value="/">' in page


async def test_passwords_never_reach_logs_or_pages(
    client: AsyncTestClient[Litestar], make_user, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await make_user()
    wrong = await sign_in(client, user.email, "my secret wrong password")
    right = await sign_in(client, user.email, PASSWORD)
    assert "my secret wrong password" not in wrong.text
    assert right.status_code == 303
    assert "my secret wrong password" not in caplog.text
    assert PASSWORD not in caplog.text


async def test_signing_out_needs_the_csrf_token(client: AsyncTestClient[Litestar], make_user) -> None:
    user = await make_user()
    await sign_in(client, user.email)
    assert (await client.post("/logout")).status_code == 403
    assert is_signed_in((await client.get("/")).text)
