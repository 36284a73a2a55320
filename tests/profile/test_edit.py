"""Editing the profile over HTTP: every row saves, refuses bad input clearly, never loses
an update and never touches anything but the signed-in person's own record."""

from __future__ import annotations

import asyncio
import datetime
import re
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import User
from smartscheduling.app import PROFILE_HOOKS
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor
from smartscheduling.config import Settings
from smartscheduling.policies.models import PolicyAcknowledgement
from smartscheduling.profile.services import ProfileService, StaleProfileError
from smartscheduling.registry import REGISTRY
from smartscheduling.security.passwords import PasswordHasher
from tests.helpers import field_errors, form_error, post_form, sign_in


async def fetch(engine: AsyncEngine, user_id: uuid.UUID) -> User:
    async with AsyncSession(engine) as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def save(client: AsyncTestClient[Litestar], key: str, version: int, *, htmx: bool = False, **values: str) -> Any:
    return await post_form(client, f"/profile/edit/{key}", {"version": str(version), **values}, htmx=htmx)


@pytest.fixture
async def me(client: AsyncTestClient[Litestar], make_user) -> User:
    user = await make_user(phone="+14155550123", postal_address="1 Main St\nSpringfield")
    assert (await sign_in(client, user.email)).status_code == 303
    return user


async def test_the_page_shows_every_personal_field(client: AsyncTestClient[Litestar], me: User) -> None:
    page = (await client.get("/profile")).text
    for label in (
        "Name", "E-mail address", "Password", "Phone number", "Postal address", "Time zone",
        "Preferred language", "What we may send you", "Country you live in", "Date of birth",
    ):  # fmt: skip
        assert f"<dt>{label}</dt>" in page
    assert me.name in page
    assert "+14155550123" in page
    assert "1 Main St\nSpringfield" in page


async def test_the_profile_needs_a_signed_in_user(app: Litestar) -> None:
    async with AsyncTestClient(app) as anonymous:
        response = await anonymous.get("/profile", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fprofile"
        assert (await anonymous.get("/profile/edit/name", follow_redirects=False)).status_code == 303


async def test_saving_without_javascript_redirects_with_a_confirmation(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    response = await save(client, "name", 1, name="Ada King")
    assert response.status_code == 303
    assert response.headers["location"] == "/profile#row-name"
    page = (await client.get("/profile")).text
    assert "Name: saved." in page
    assert "Ada King" in page
    saved = await fetch(db_engine, me.id)
    assert (saved.name, saved.profile_version) == ("Ada King", 2)


async def test_saving_with_htmx_returns_the_row(client: AsyncTestClient[Litestar], me: User) -> None:
    form = await client.get("/profile/edit/name", headers={"hx-request": "true"})
    assert form.status_code == 200
    assert "<html" not in form.text
    assert 'id="row-name"' in form.text
    assert 'value="1"' in form.text  # the version the form was opened at
    response = await save(client, "name", 1, name="Ada King", htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="row-name"' in response.text
    assert "Ada King" in response.text
    assert "Name: saved." in response.text
    assert "<form" not in response.text


async def test_cancel_restores_the_row(client: AsyncTestClient[Litestar], me: User) -> None:
    row = await client.get("/profile/row/phone", headers={"hx-request": "true"})
    assert row.status_code == 200
    assert "+14155550123" in row.text
    assert "<form" not in row.text
    plain = await client.get("/profile/row/phone", follow_redirects=False)
    assert plain.status_code == 303
    assert plain.headers["location"] == "/profile#row-phone"


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("(415) 555-0199", "US", "+14155550199"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("01 42 68 53 00", "FR", "+33142685300"),
    ],
)
async def test_phone_numbers_are_stored_in_e164(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, *, typed: str, country: str, stored: str
) -> None:
    user = await make_user(country=country)
    await sign_in(client, user.email)
    assert (await save(client, "phone", 1, phone=typed)).status_code == 303
    assert (await fetch(db_engine, user.id)).phone == stored


@pytest.mark.parametrize(
    ("key", "values", "field", "message"),
    [
        ("phone", {"phone": "12345"}, "phone", "Enter a phone number we can call"),
        ("phone", {"phone": "+1" + "5" * 40}, "phone", "at most 32"),
        ("name", {"name": "x" * 101}, "name", "at most 100"),
        ("name", {"name": ""}, "name", "Please fill in name."),
        ("postal_address", {"postal_address": "x" * 301}, "postal_address", "at most 300"),
        ("time_zone", {"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Choose a time zone from the list."),
        ("language", {"language": "xx"}, "language", "Choose a language from the list."),
        ("country", {"country": "ZZ"}, "country", "Choose"),
        ("date_of_birth", {"date_of_birth": "next tuesday"}, "date_of_birth", "like 1990-04-23"),
        ("name", {"name": "Ada\nLovelace"}, "name", "must fit on one line"),
        ("postal_address", {"postal_address": "1 Main St\x00"}, "postal_address", "invisible control character"),
    ],
)
async def test_bad_input_is_refused_with_a_message_and_the_input_kept(
    client: AsyncTestClient[Litestar],
    me: User,
    db_engine: AsyncEngine,
    *,
    key: str,
    values: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = await fetch(db_engine, me.id)
    for htmx in (False, True):
        response = await save(client, key, 1, htmx=htmx, **values)
        assert response.status_code == 422
        assert ("<html" in response.text) is not htmx
        assert message in field_errors(response.text)[field]
        typed = next(iter(values.values()))
        # Selects keep a valid choice, not foreign text; a refused date of birth is never sent back.
        if typed and key not in {"country", "time_zone", "language", "date_of_birth"}:
            assert f">{typed}<" in response.text or f'value="{typed}"' in response.text
    after = await fetch(db_engine, me.id)
    assert (after.profile_version, getattr(after, field)) == (before.profile_version, getattr(before, field))


async def test_a_minors_date_of_birth_is_refused_and_not_kept(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    born = (datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=365 * 15)).isoformat()
    response = await save(client, "date_of_birth", 1, date_of_birth=born)
    assert response.status_code == 422
    assert "adults only" in field_errors(response.text)["date_of_birth"]
    assert born not in response.text  # not even sent back
    assert (await fetch(db_engine, me.id)).date_of_birth is None


async def test_optional_fields_can_be_cleared(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    assert (await save(client, "phone", 1, phone="")).status_code == 303
    assert (await save(client, "postal_address", 2, postal_address="")).status_code == 303
    user = await fetch(db_engine, me.id)
    assert (user.phone, user.postal_address) == (None, None)
    page = (await client.get("/profile")).text
    assert re.search(r'id="row-phone">.*?Not given', page, re.DOTALL)


async def test_text_reminders_need_a_phone_number(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    assert (await save(client, "communication", 1, notify_reminders_sms="true")).status_code == 303
    refused = await save(client, "phone", 2, phone="")
    assert refused.status_code == 422
    assert "switch them off first" in field_errors(refused.text)["phone"]
    assert (await save(client, "communication", 2)).status_code == 303  # every box unticked
    assert (await save(client, "phone", 3, phone="")).status_code == 303
    user = await fetch(db_engine, me.id)
    assert (user.notify_reminders_sms, user.phone) == (False, None)
    again = await save(client, "communication", 4, notify_reminders_sms="true")
    assert again.status_code == 422
    assert "Add a phone number first" in field_errors(again.text)["notify_reminders_sms"]


async def test_moving_abroad_needs_the_transfer_acknowledgement_once(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    form = (await client.get("/profile/edit/country")).text
    assert "I understand that my data is transferred to and stored in the U.S." in form
    refused = await save(client, "country", 1, country="DE")
    assert refused.status_code == 422
    assert "stored in the U.S." in field_errors(refused.text)["transfer_ack"]
    assert (await save(client, "country", 1, country="DE", transfer_ack="true")).status_code == 303
    async with AsyncSession(db_engine) as session:
        (ack,) = await session.scalars(select(PolicyAcknowledgement).where(PolicyAcknowledgement.user_id == me.id))
    assert (ack.document, ack.context) == ("us_transfer", "profile")
    assert "I understand that my data" not in (await client.get("/profile/edit/country")).text
    assert (await save(client, "country", 2, country="FR")).status_code == 303
    assert (await fetch(db_engine, me.id)).country == "FR"


async def test_a_stale_form_is_refused_showing_the_current_value(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    assert (await save(client, "phone", 1, phone="+14155550100")).status_code == 303  # another tab, say
    for htmx in (False, True):
        stale = await save(client, "phone", 1, phone="+14155550111", htmx=htmx)
        assert stale.status_code == 409
        message = form_error(stale.text)
        assert message is not None
        assert "changed elsewhere" in message
        assert "It is now: +14155550100" in message
        assert 'value="+14155550111"' in stale.text  # the input is kept …
        assert 'name="version" value="2"' in stale.text  # … and can be saved over the new version
    assert (await fetch(db_engine, me.id)).phone == "+14155550100"
    assert (await save(client, "phone", 2, phone="+14155550111")).status_code == 303


async def test_two_concurrent_saves_of_one_version_cannot_both_win(
    make_user, db_engine: AsyncEngine, settings: Settings
) -> None:
    user = await make_user()

    async def save_from(device: str) -> str:
        async with AsyncSession(db_engine) as session:
            profile = ProfileService(session, settings, PasswordHasher(), REGISTRY, PROFILE_HOOKS)
            mine = await session.get(User, user.id)  # as identity reads it for the request
            assert mine is not None
            try:
                await profile.update(mine, version=1, changes={"name": device}, actor=Actor(user.id, None))
            except StaleProfileError as stale:
                return f"refused, now {stale.current.name}"
            return "saved"

    outcomes = await asyncio.gather(save_from("laptop"), save_from("phone"))
    saved = await fetch(db_engine, user.id)
    assert sorted(outcomes) == ["refused, now " + saved.name, "saved"]
    assert saved.profile_version == 2


async def test_an_unknown_field_is_a_404_and_changes_nothing(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    for key in ("role", "password_hash", "session_epoch", "..%2Fadmin"):
        assert (await client.get(f"/profile/edit/{key}", headers={"hx-request": "true"})).status_code == 404
        response = await save(client, key, 1, htmx=True, role="admin", password_hash="x", session_epoch="9")
        assert response.status_code == 404
    after = await fetch(db_engine, me.id)
    assert (after.role, after.profile_version, after.session_epoch) == (me.role, 1, me.session_epoch)


async def test_a_forged_user_id_edits_only_the_signed_in_user(
    client: AsyncTestClient[Litestar], me: User, make_user, db_engine: AsyncEngine
) -> None:
    other = await make_user(name="Someone Else")
    for forged in ("user_id", "id", "subject_id"):
        version = (await fetch(db_engine, me.id)).profile_version
        response = await save(client, "name", version, name=f"Forged {forged}", **{forged: str(other.id)})
        assert response.status_code == 303
    assert (await fetch(db_engine, other.id)).name == "Someone Else"
    assert (await fetch(db_engine, other.id)).profile_version == 1


async def test_a_save_without_the_csrf_token_is_refused(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    for headers in ({}, {"hx-request": "true"}):
        response = await client.post("/profile/edit/name", data={"version": "1", "name": "Mallory"}, headers=headers)
        assert response.status_code == 403
    assert (await fetch(db_engine, me.id)).name == me.name


async def test_each_change_is_audited_by_field_name_never_by_value(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    await save(client, "phone", 1, phone="+14155550177")
    ticked = dict.fromkeys(("notify_news", "notify_reminders_email", "notify_reminders_sms"), "true")
    await save(client, "communication", 2, **ticked)
    async with AsyncSession(db_engine) as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "profile.updated").order_by(AuditEvent.occurred_at)
            )
        )
    assert [(e.actor_id, e.subject_id) for e in events] == [(me.id, me.id)] * 2
    assert events[0].details == {"fields": ["phone"]}
    assert events[1].details == {"fields": ["notify_news", "notify_reminders_sms"]}  # e-mail reminders were on
    assert "4155550177" not in str([e.details for e in events])


async def test_a_postal_address_keeps_its_lines(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    assert (await save(client, "postal_address", 1, postal_address="2 High St\r\nSpringfield\tIL")).status_code == 303
    assert (await fetch(db_engine, me.id)).postal_address == "2 High St\r\nSpringfield\tIL"


async def test_a_version_beyond_the_database_integer_range_is_refused(
    client: AsyncTestClient[Litestar], me: User, db_engine: AsyncEngine
) -> None:
    for version in (2**31, -(2**31) - 1, 10**30):
        assert (await save(client, "name", version, name="Someone Else")).status_code == 422
    assert (await fetch(db_engine, me.id)).name == me.name
