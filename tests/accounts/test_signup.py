"""Sign-up: adults only, the U.S. transfer notice, no account enumeration, clear errors."""

from __future__ import annotations

import datetime
import logging

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.models import AccountToken, Role, TokenPurpose, User
from smartscheduling.audit.models import AuditEvent
from smartscheduling.db import metadata
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.policies.models import PolicyAcknowledgement
from tests.helpers import csrf_token, field_errors, post_form
from tests.mailbox import Mailbox

ADULT = {
    "name": "Ada Lovelace",
    "email": "Ada.Lovelace@Example.COM",
    "password": "analytical engine notes",
    "date_of_birth": "1990-12-10",
    "country": "US",
    "accept_policy": "true",
}


def years_ago(years: int, days: int = 0) -> str:
    today = datetime.datetime.now(datetime.UTC).date()
    try:
        then = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        then = today.replace(year=today.year - years, day=28)
    return (then + datetime.timedelta(days=days)).isoformat()


async def rows(engine: AsyncEngine, model: type) -> list:
    async with engine.connect() as connection:
        return list((await connection.execute(select(model))).all())


async def sign_up(client: AsyncTestClient[Litestar], **changes: str) -> object:
    await csrf_token(client, "/signup")
    return await post_form(client, "/signup", {**ADULT, **changes})


async def test_an_adult_in_the_us_signs_up(client: AsyncTestClient[Litestar], db_engine: AsyncEngine) -> None:
    response = await sign_up(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/signup/sent"
    (user,) = await rows(db_engine, User)
    assert user.email == "ada.lovelace@example.com"  # normalised, unique case-insensitively
    assert user.name == "Ada Lovelace"
    assert user.date_of_birth == datetime.date(1990, 12, 10)
    assert user.role == Role.CLIENT
    assert user.email_verified_at is None
    assert user.password_hash.startswith("pbkdf2_sha256$1200000$")
    acknowledgements = await rows(db_engine, PolicyAcknowledgement)
    assert [(a.document, a.version, a.context) for a in acknowledgements] == [("privacy", 1, "signup")]
    assert acknowledgements[0].acknowledged_at is not None
    (mail,) = await rows(db_engine, OutboxMessage)
    assert (mail.kind, mail.to_address) == ("verify_email", "ada.lovelace@example.com")
    (token,) = await rows(db_engine, AccountToken)
    assert token.purpose == TokenPurpose.VERIFY_EMAIL
    assert (
        datetime.timedelta(hours=23, minutes=59) < token.expires_at - token.created_at <= datetime.timedelta(hours=24)
    )
    assert [e.action for e in await rows(db_engine, AuditEvent)] == ["account.signup"]
    assert "session" not in client.cookies  # signing up does not sign in


async def test_outside_the_us_the_transfer_is_acknowledged_and_recorded(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    refused = await sign_up(client, country="FR")
    assert refused.status_code == 422
    assert "your data is stored in the U.S." in field_errors(refused.text)["transfer_ack"]
    assert await rows(db_engine, User) == []
    accepted = await sign_up(client, country="FR", transfer_ack="true")
    assert accepted.status_code == 303
    (user,) = await rows(db_engine, User)
    assert user.country == "FR"
    documents = {(a.document, a.version) for a in await rows(db_engine, PolicyAcknowledgement)}
    assert documents == {("privacy", 1), ("us_transfer", 1)}


async def test_the_transfer_notice_is_shown_and_links_to_the_storage_section(
    client: AsyncTestClient[Litestar],
) -> None:
    page = (await client.get("/signup")).text
    assert "transferred to and\n      kept in the U.S." in page
    assert 'href="/privacy#where-your-data-is-stored"' in page


@pytest.mark.parametrize("age", [0, 12, 17])
async def test_a_minor_is_refused_and_the_date_is_kept_nowhere(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, caplog: pytest.LogCaptureFixture, age: int
) -> None:
    caplog.set_level(logging.DEBUG)
    birthday = years_ago(age, days=1) if age else years_ago(0, days=-30)
    response = await sign_up(client, date_of_birth=birthday, email="young.person@example.com", name="Young Person")
    assert response.status_code == 200
    assert "you need to be 18 or older" in response.text
    assert "We have not kept anything you entered" in response.text
    for secret in (birthday, "young.person", "Young Person"):
        assert secret not in response.text
        assert secret not in caplog.text
    assert "session" not in client.cookies
    async with db_engine.connect() as connection:
        for table in metadata.sorted_tables:
            dump = str((await connection.execute(select(table))).all())
            assert birthday not in dump, table.name
            assert "young.person" not in dump, table.name
    assert await rows(db_engine, User) == []


async def test_eighteen_today_is_old_enough(client: AsyncTestClient[Litestar], db_engine: AsyncEngine) -> None:
    response = await sign_up(client, date_of_birth=years_ago(18))
    assert response.status_code == 303
    assert len(await rows(db_engine, User)) == 1


async def test_an_existing_address_gets_the_same_answer_and_its_owner_an_email(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user, deliver, mailbox: Mailbox
) -> None:
    owner = await make_user(email="ada.lovelace@example.com", name="Ada the Original")
    new_address = await sign_up(client, email="grace@example.com")
    taken_address = await sign_up(client, email="ADA.Lovelace@example.com", name="Impostor")
    assert (taken_address.status_code, taken_address.headers["location"]) == (
        new_address.status_code,
        new_address.headers["location"],
    )
    assert {u.email for u in await rows(db_engine, User)} == {"ada.lovelace@example.com", "grace@example.com"}
    await deliver()
    (to_owner,) = mailbox.to(owner.email)
    assert to_owner["Subject"] == "Someone tried to create an account with your address"
    assert "Ada the Original" in Mailbox.text(to_owner)
    assert "Impostor" not in Mailbox.text(to_owner)
    assert [m["Subject"] for m in mailbox.to("grace@example.com")] == ["Confirm your e-mail address"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter an e-mail address like name@example.com."),
        ({"email": ""}, "email", "Please fill in e-mail address."),
        ({"name": "N" * 101}, "name", "Name can be at most 100 characters long."),
        ({"name": "   "}, "name", "Please fill in name."),
        ({"country": "ZZ"}, "country", "Choose the country you live in from the list."),
        ({"country": ""}, "country", "Choose the country you live in."),
        ({"date_of_birth": "2001-02-30"}, "date_of_birth", "Enter date of birth as a date, like 1990-04-23."),
        ({"date_of_birth": "10/12/1990"}, "date_of_birth", "Enter date of birth as a date, like 1990-04-23."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "Your date of birth cannot be in the future."),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "Please check the year of your date of birth."),
        (
            {"password": "password1234"},
            "password",
            "This password appears in lists of leaked passwords. Please choose another.",
        ),
        ({"password": "ada.lovelace rocks"}, "password", "Your password must not contain your e-mail address."),
        ({"accept_policy": ""}, "accept_policy", "Please confirm that you have read the privacy policy."),
        (
            {"name": "Ada\r\nTo unlock your account, open https://evil.example/unlock"},
            "name",
            "Name must fit on one line: remove the line breaks.",
        ),
        ({"name": "Ada\u2028Lovelace"}, "name", "Name must fit on one line: remove the line breaks."),
        ({"name": "Ada\x00Lovelace"}, "name", "Name contains an invisible control character: please type it again."),
        ({"name": "Ada\x1b[2JLovelace"}, "name", "Name contains an invisible control character: please type it again."),
    ],
)
async def test_bad_input_is_answered_next_to_the_field_and_kept(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, changes: dict[str, str], field: str, message: str
) -> None:
    response = await sign_up(client, **changes)
    assert response.status_code == 422
    assert field_errors(response.text)[field] == message
    assert f'value="{ADULT["password"]}"' not in response.text  # the password is never echoed
    if field != "name":
        assert 'value="Ada Lovelace"' in response.text  # what was typed stays
    assert await rows(db_engine, User) == []


async def test_htmx_gets_just_the_form_with_errors(client: AsyncTestClient[Litestar]) -> None:
    await csrf_token(client, "/signup")
    response = await post_form(client, "/signup", {**ADULT, "email": "broken"}, htmx=True)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form method="post" action="/signup"')
    assert "<html" not in response.text
    assert 'id="f-email" name="email" type="email" value="broken"' in response.text
    assert "autofocus" in response.text


async def test_htmx_success_redirects_the_whole_page(client: AsyncTestClient[Litestar]) -> None:
    await csrf_token(client, "/signup")
    response = await post_form(client, "/signup", ADULT, htmx=True)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/signup/sent"


async def test_signup_without_csrf_token_changes_nothing(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await client.get("/signup")
    response = await client.post("/signup", data=ADULT)
    assert response.status_code == 403
    assert await rows(db_engine, User) == []


async def test_overlong_values_are_refused_without_a_crash(client: AsyncTestClient[Litestar]) -> None:
    response = await sign_up(client, name="x" * 50_000, email="y" * 300 + "@example.com")
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert errors["name"] == "Name is far too long."
    assert errors["email"] == "E-mail address can be at most 254 characters long."


async def test_sign_ups_are_throttled_per_network(client: AsyncTestClient[Litestar], db_engine: AsyncEngine) -> None:
    for number in range(10):
        assert (await sign_up(client, email=f"person{number}@example.com")).status_code == 303
    response = await sign_up(client, email="one.too.many@example.com")
    assert response.status_code == 429
    assert "Too many sign-ups from your network" in response.text
    assert int(response.headers["retry-after"]) > 0
    async with db_engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(User)) == 10


async def test_repeated_sign_ups_with_a_taken_address_tell_its_owner_only_a_few_times(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user, deliver, mailbox: Mailbox
) -> None:
    owner = await make_user(email="ada.lovelace@example.com")
    for _ in range(10):
        assert (await sign_up(client)).headers["location"] == "/signup/sent"  # the same answer every time
    await deliver()
    assert [m["Subject"] for m in mailbox.to(owner.email)] == [
        "Someone tried to create an account with your address"
    ] * 3
    async with db_engine.connect() as connection:
        attempts = await connection.scalar(
            select(func.count()).where(AuditEvent.action == "account.signup_with_existing_address")
        )
    assert attempts == 10  # every attempt is still on record
