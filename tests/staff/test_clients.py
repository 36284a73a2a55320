"""The client directory: records for clients without an account, search by any part of
name, e-mail or phone (case, accents and wildcards as typed), keyset pages, and the
record itself — each opening, edit and note an audit event in the client's access log."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import NO_PASSWORD, Role, User
from smartscheduling.app import create_app
from smartscheduling.audit.models import AuditEvent
from smartscheduling.config import Settings
from smartscheduling.staff.clients import PAGE_SIZE
from smartscheduling.staff.models import ClientNote
from tests.helpers import field_errors, form_error, post_form, sign_in
from tests.scheduling.test_booking import MONDAY, NOW, at, book, salon


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=lambda: NOW), base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def desk(client: AsyncTestClient[Litestar], make_user) -> User:
    """A staff member, signed in at the front desk."""
    staff = await make_user(role=Role.STAFF, name="Dana Desk")
    await sign_in(client, staff.email)
    return staff


async def page_text(client: AsyncTestClient[Litestar], path: str) -> str:
    """A page that must be answered, for checks of what it does not show."""
    response = await client.get(path)
    assert response.status_code == 200, path
    return response.text


def listed(page: str) -> list[str]:
    """The clients' names in the directory's table, in order."""
    return re.findall(r'<th scope="row"><a href="/staff/clients/[0-9a-f-]+">([^<]*)</a>', page)


async def events(engine: AsyncEngine, subject: uuid.UUID) -> list[tuple[str, uuid.UUID | None]]:
    async with AsyncSession(engine) as session:
        found = await session.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .where(AuditEvent.subject_id == subject)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
        return [tuple(row) for row in found.all()]  # type: ignore[misc]


async def test_staff_add_a_client_without_an_account(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user, staff=0)  # the business in Berlin: local numbers are German
    response = await post_form(
        client, "/staff/clients/new", {"name": "Walk-in Wanda", "phone": "030 1234567", "email": "Wanda@Example.com"}
    )
    assert response.status_code == 303
    async with AsyncSession(db_engine) as session:
        wanda = await session.scalar(select(User).where(User.name == "Walk-in Wanda"))
    assert wanda is not None
    assert response.headers["location"] == f"/staff/clients/{wanda.id}"
    assert (wanda.email, wanda.contact_email, wanda.phone) == (None, "wanda@example.com", "+49301234567")
    assert (wanda.role, wanda.password_hash, wanda.has_account) == (Role.CLIENT, NO_PASSWORD, False)
    page = (await client.get(response.headers["location"])).text
    assert "Client added: Walk-in Wanda." in page
    assert "No account: known to staff only" in page
    assert await events(db_engine, wanda.id) == [("client.created", desk.id), ("client.viewed", desk.id)]
    # Such a record is no sign-in: not with its address, not with any password.
    assert (await sign_in(client, "wanda@example.com", "!")).status_code == 422


async def test_a_record_needs_a_name_a_phone_or_an_e_mail_address(
    client: AsyncTestClient[Litestar], desk: User, db_engine: AsyncEngine
) -> None:
    empty = await post_form(client, "/staff/clients/new", {"name": "", "phone": "", "email": ""})
    assert empty.status_code == 422
    assert field_errors(empty.text) == {"name": "Give at least a name, a phone number or an e-mail address."}
    bad = await post_form(client, "/staff/clients/new", {"name": "Kim", "phone": "12", "email": "not an address"})
    assert bad.status_code == 422
    assert set(field_errors(bad.text)) == {"phone", "email"}
    assert 'value="Kim"' in bad.text  # what was typed stays
    phone_only = await post_form(client, "/staff/clients/new", {"phone": "+44 20 7946 0958"})
    assert phone_only.status_code == 303
    async with AsyncSession(db_engine) as session:
        clients = (await session.scalars(select(User).where(User.role == Role.CLIENT))).all()
    assert [(c.name, c.phone) for c in clients] == [("", "+442079460958")]


async def test_a_second_record_for_the_same_phone_or_address_is_refused_with_a_link_to_the_first(
    client: AsyncTestClient[Litestar], desk: User, make_user
) -> None:
    holder = await make_user(name="Ola Holder", email="ola@example.com", phone="+442079460958")
    by_mail = await post_form(client, "/staff/clients/new", {"name": "Ola", "email": "OLA@example.com"})
    assert by_mail.status_code == 409
    assert field_errors(by_mail.text) == {"email": "A client with this e-mail address is already in the directory."}
    assert f'href="/staff/clients/{holder.id}"' in by_mail.text
    by_phone = await post_form(client, "/staff/clients/new", {"name": "Ola", "phone": "+44 20 7946 0958"})
    assert by_phone.status_code == 409
    assert field_errors(by_phone.text) == {"phone": "A client with this phone number is already in the directory."}


async def test_search_finds_any_part_of_name_address_or_phone_whatever_the_case_and_accents(
    client: AsyncTestClient[Litestar], desk: User, make_user
) -> None:
    await make_user(name="Zoë Müller", email="zoe@example.com", phone="+4915112345678")
    await make_user(name="Björn Borg", email="bjorn@tennis.example", phone="+46701234567")
    await make_user(name="Zoe Other", email="other@example.com")

    async def search(query: str) -> list[str]:
        response = await client.get("/staff/clients", params={"q": query})
        assert response.status_code == 200
        return listed(response.text)

    assert await search("") == ["Björn Borg", "Zoë Müller", "Zoe Other"]  # clients only, by folded name
    assert await search("ZOE") == ["Zoë Müller", "Zoe Other"]
    assert await search("müll") == ["Zoë Müller"]
    assert await search("MULLER") == ["Zoë Müller"]
    assert await search("tennis") == ["Björn Borg"]
    assert await search("5678") == ["Zoë Müller"]  # the last digits of a phone
    assert await search("+49 151 1234") == ["Zoë Müller"]  # typed as people type numbers
    assert await search("nobody") == []


async def test_search_takes_wildcards_and_sql_literally(
    client: AsyncTestClient[Litestar], desk: User, make_user
) -> None:
    await make_user(name="100% Natural")
    await make_user(name="snake_case Sam")
    await make_user(name="O'Brien")
    await make_user(name="Plain Person")
    for query, expected in (
        ("%", ["100% Natural"]),
        ("_", ["snake_case Sam"]),
        ("o'b", ["O'Brien"]),
        ("' OR 1=1 --", []),
        ("\\", []),
    ):
        response = await client.get("/staff/clients", params={"q": query})
        assert response.status_code == 200
        assert [name.replace("&#39;", "'") for name in listed(response.text)] == expected, query


async def test_the_directory_pages_by_keyset_without_gaps_or_repeats(
    client: AsyncTestClient[Litestar], desk: User, db_engine: AsyncEngine
) -> None:
    names = [f"Client {n:03d}" for n in range(PAGE_SIZE * 2 + 7)]
    async with AsyncSession(db_engine) as session:
        session.add_all(User(name=name, password_hash=NO_PASSWORD, role=Role.CLIENT) for name in reversed(names))
        await session.commit()
    seen: list[str] = []
    url = "/staff/clients?q=client"
    for _ in range(4):
        page = (await client.get(url)).text
        seen += listed(page)
        following = re.search(r'href="(/staff/clients\?q=client&amp;after=[0-9a-f-]+)"', page)
        if following is None:
            break
        url = following[1].replace("&amp;", "&")
    assert seen == names
    assert "First page" in page


async def test_the_record_shows_appointments_last_visit_and_notes(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    _, [stylist] = await salon(db_engine, make_user)
    pat = await make_user(name="Pat Client")
    await book(db_engine, pat, at(MONDAY, 10))
    directory = (await client.get("/staff/clients", params={"q": "pat"})).text
    assert "—" in directory  # no visit yet: the appointment is to come
    page = (await client.get(f"/staff/clients/{pat.id}")).text
    assert "Monday 7 December 2026, 10:00" in page
    assert "Haircut" in page
    assert "Stylist 0" in page
    added = await post_form(client, f"/staff/clients/{pat.id}/notes", {"body": "Prefers mornings.\nNo coffee."})
    assert added.status_code == 303
    page = (await client.get(f"/staff/clients/{pat.id}")).text
    assert '<p class="preserve-lines">Prefers mornings.\nNo coffee.</p>' in page
    assert "Dana Desk, " in page
    empty = await post_form(client, f"/staff/clients/{pat.id}/notes", {"body": ""})
    assert empty.status_code == 422
    assert field_errors(empty.text) == {"body": "Please fill in note."}
    async with AsyncSession(db_engine) as session:
        assert len((await session.scalars(select(ClientNote))).all()) == 1
    del stylist


async def test_opening_editing_and_noting_a_record_reach_the_clients_access_log(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    ada = await make_user(name="Ada Account", email="ada@example.com")
    assert (await client.get(f"/staff/clients/{ada.id}")).status_code == 200
    form = (await client.get(f"/staff/clients/{ada.id}/edit")).text
    assert "only they can change it" in form
    saved = await post_form(
        client,
        f"/staff/clients/{ada.id}/edit",
        {"version": "1", "name": "Ada Account", "phone": "+44 20 7946 0958", "email": "someone.else@example.com"},
    )
    assert saved.status_code == 303
    await post_form(client, f"/staff/clients/{ada.id}/notes", {"body": "Asked for a quieter chair."})
    async with AsyncSession(db_engine) as session:
        stored = await session.get_one(User, ada.id)
    assert (stored.phone, stored.email) == ("+442079460958", "ada@example.com")  # her sign-in is hers
    assert [action for action, actor in await events(db_engine, ada.id) if actor == desk.id] == [
        "client.viewed", "client.viewed", "client.updated", "client.note_added",
    ]  # fmt: skip

    await post_form(client, "/logout", {})
    await sign_in(client, "ada@example.com")
    data = (await client.get("/profile/data")).text
    assert data.count("<td>Dana Desk (Staff)</td>") == 4
    for said in ("Opened your record", "Changed your record: phone", "Added a note to your record"):
        assert f"<td>{said}</td>" in data


async def test_an_edit_made_after_someone_elses_is_refused_and_keeps_what_was_typed(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    walk_in = await make_user(name="Wes Walkin", email=None, contact_email="wes@example.com", password_hash="!")
    first = {"version": "1", "name": "Wes Walk-in", "phone": "", "email": "wes@example.com"}
    assert (await post_form(client, f"/staff/clients/{walk_in.id}/edit", first)).status_code == 303
    late = {"version": "1", "name": "Wesley", "phone": "", "email": "wesley@example.com"}
    refused = await post_form(client, f"/staff/clients/{walk_in.id}/edit", late)
    assert refused.status_code == 409
    assert "Someone changed this client's record after you opened it." in (form_error(refused.text) or "")
    assert 'value="wesley@example.com"' in refused.text
    async with AsyncSession(db_engine) as session:
        stored = await session.get_one(User, walk_in.id)
    assert (stored.name, stored.contact_email) == ("Wes Walk-in", "wes@example.com")


async def test_unknown_ids_and_staff_records_are_not_found(
    client: AsyncTestClient[Litestar], desk: User, make_user
) -> None:
    colleague = await make_user(role=Role.STAFF)
    for target in (uuid.uuid4(), colleague.id, desk.id):
        assert (await client.get(f"/staff/clients/{target}")).status_code == 404
        assert (await client.get(f"/staff/clients/{target}/edit")).status_code == 404
        assert (await post_form(client, f"/staff/clients/{target}/notes", {"body": "x"})).status_code == 404


async def test_clients_cannot_open_the_directory(client: AsyncTestClient[Litestar], make_user) -> None:
    someone = await make_user()
    await sign_in(client, someone.email)
    assert (await client.get("/staff/clients")).status_code == 403
    assert (await client.get(f"/staff/clients/{someone.id}")).status_code == 403


async def test_a_record_joins_the_account_of_the_same_address_only_when_its_owner_says_so(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user)
    added = await post_form(client, "/staff/clients/new", {"name": "Wanda W.", "email": "wanda@example.com"})
    record_id = uuid.UUID(added.headers["location"].rsplit("/", 1)[1])
    async with AsyncSession(db_engine) as session:
        record = await session.get_one(User, record_id)
    visit = await book(db_engine, record, at(MONDAY, 10))
    await post_form(client, f"/staff/clients/{record_id}/notes", {"body": "Short fringe."})
    await post_form(client, "/logout", {})

    unconfirmed = await make_user(email="wanda@example.com", email_verified_at=None)
    stranger = await make_user(email="stranger@example.com")
    await sign_in(client, stranger.email)
    assert "Staff keep a client record" not in await page_text(client, "/profile")
    assert (await post_form(client, f"/profile/records/{record_id}/join", {})).status_code == 404
    await post_form(client, "/logout", {})
    await sign_in(client, unconfirmed.email)
    assert "Staff keep a client record" not in await page_text(client, "/profile")  # not before it is hers
    assert (await post_form(client, f"/profile/records/{record_id}/join", {})).status_code == 404
    async with AsyncSession(db_engine) as session:
        mine = await session.get_one(User, unconfirmed.id)
        mine.email_verified_at = NOW
        await session.commit()

    profile = (await client.get("/profile")).text
    assert "Staff keep a client record" in profile
    assert "Wanda W." in profile
    assert "Short fringe" not in await page_text(client, "/profile/data")  # nothing joins by itself
    joined = await post_form(client, f"/profile/records/{record_id}/join", {})
    assert (joined.status_code, joined.headers["location"]) == (303, "/profile")
    page = (await client.get("/profile")).text
    assert "Joined: your appointments and history with the business are now part of your account." in page
    assert "Staff keep a client record" not in page
    async with AsyncSession(db_engine) as session:
        assert await session.get(User, record_id) is None
        moved = await session.get_one(type(visit), visit.id)
        (note,) = (await session.scalars(select(ClientNote))).all()
    assert (moved.client_id, note.client_id) == (unconfirmed.id, unconfirmed.id)
    assert ("client.created", desk.id) in await events(db_engine, unconfirmed.id)  # its history came along
    assert "Haircut" in (await client.get("/profile/appointments")).text


async def test_not_me_leaves_the_record_to_the_business_and_stops_the_offer(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    added = await post_form(client, "/staff/clients/new", {"name": "Other Wanda", "email": "wanda@example.com"})
    record_id = uuid.UUID(added.headers["location"].rsplit("/", 1)[1])
    await post_form(client, "/logout", {})
    wanda = await make_user(email="wanda@example.com")
    await sign_in(client, wanda.email)
    assert "Other Wanda" in (await client.get("/profile")).text
    declined = await post_form(client, f"/profile/records/{record_id}/decline", {})
    assert declined.status_code == 303
    after = await client.get("/profile")
    assert after.status_code == 200
    assert "Other Wanda" not in after.text
    async with AsyncSession(db_engine) as session:
        assert (await session.get_one(User, record_id)).contact_email == "wanda@example.com"


async def test_a_phone_number_is_found_as_it_is_dialled_in_the_business_country(
    client: AsyncTestClient[Litestar], desk: User, make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user, staff=0)  # in Germany
    await make_user(name="Zoë Müller", phone="+4915112345678")
    await make_user(name="Someone Else", phone="+4930123456")
    for query in ("0151 12345678", "0151 123", "+49 151 12345678", "5678"):
        response = await client.get("/staff/clients", params={"q": query})
        assert listed(response.text) == ["Zoë Müller"], query
