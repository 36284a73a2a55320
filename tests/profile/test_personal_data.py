"""The personal-data registry and what it drives: "Your data", the export and closing the
account. The registry tests fail when a capability adds a table or a column and forgets
to say what it holds about people and what happens to it."""

from __future__ import annotations

import datetime
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import Column, ForeignKey, MetaData, String, Table, Text, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role, User
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor, record
from smartscheduling.business_days import BusinessCalendar
from smartscheduling.complaints.services import ComplaintService, NewComplaint
from smartscheduling.config import Settings
from smartscheduling.db import Model
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.mail.outbox import enqueue
from smartscheduling.personal_data import Erasure
from smartscheduling.policies.models import PolicyAcknowledgement, PolicyKind, PolicyVersion
from smartscheduling.registry import REGISTRY
from smartscheduling.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ExceptionKind,
    Offering,
    OfferingStaff,
    StaffException,
    StaffProfile,
    WorkingHours,
)
from smartscheduling.staff.models import ClientNote
from tests.conftest import PASSWORD
from tests.helpers import field_errors, is_signed_in, post_form, sign_in
from tests.mailbox import Mailbox
from tests.security.test_sessions import digest, stored_keys


async def database_columns(engine: AsyncEngine) -> dict[str, set[str]]:
    """Every table and its columns as the migrations made them."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: {
                table: {column["name"] for column in inspect(sync).get_columns(table)}
                for table in inspect(sync).get_table_names()
            }
        )


# --- the registry covers everything -----------------------------------------------------


async def test_every_table_is_a_holding_or_declared_not_personal(db_engine: AsyncEngine) -> None:
    registered = [holding.model.__tablename__ for holding in REGISTRY.holdings]
    assert len(registered) == len(set(registered)), "a table is registered twice"
    tables = set(await database_columns(db_engine))
    undecided = tables - set(registered) - set(REGISTRY.not_personal)
    assert not undecided, f"tables nobody said are personal or not: {sorted(undecided)}"
    assert not set(registered) & set(REGISTRY.not_personal)
    assert set(REGISTRY.not_personal) <= tables, "REGISTRY.not_personal names a table that does not exist"


def coverage_problems(tables: list[Table]) -> list[str]:
    by_table = {holding.model.__tablename__: holding for holding in REGISTRY.holdings}
    personal_columns = {
        mapper.local_table.name: set(getattr(mapper.class_, "__pii_columns__", ())) for mapper in Model.registry.mappers
    }
    problems = []
    for table in tables:
        references = {fk.parent.name for fk in table.foreign_keys if fk.column.table.name == User.__tablename__}
        if table.name == User.__tablename__:
            references.add("id")
        personal = personal_columns.get(table.name, set())
        if not references and not personal:
            continue
        holding = by_table.get(table.name)
        if holding is None:
            problems.append(f"{table.name} refers to people but is not in the personal-data registry")
            continue
        if missing := references - set(holding.owners):
            problems.append(f"{table.name}: user references {sorted(missing)} are not owners")
        if missing := personal - set(holding.shown):
            problems.append(f"{table.name}: personal columns {sorted(missing)} are not exported")
    return problems


def test_every_user_reference_and_personal_column_is_covered() -> None:
    assert coverage_problems(Model.metadata.sorted_tables) == []


def test_a_forgotten_table_is_caught() -> None:
    """The check above is real: a new table pointing at users, unregistered, fails it."""
    metadata = MetaData()
    User.__table__.to_metadata(metadata)
    Table("forgotten_notes", metadata, Column("owner_id", ForeignKey("user_account.id")), Column("note", Text))
    assert coverage_problems(metadata.sorted_tables) == [
        "forgotten_notes refers to people but is not in the personal-data registry"
    ]


async def test_every_column_of_a_holding_is_exported_or_withheld_for_a_reason(db_engine: AsyncEngine) -> None:
    columns = await database_columns(db_engine)
    for holding in REGISTRY.holdings:
        table = holding.model.__tablename__
        shown, withheld = set(holding.shown), set(holding.withheld)
        assert not shown & withheld, f"{table}: a column is both exported and withheld"
        assert shown | withheld == columns[table], f"{table}: columns nobody decided about"
        assert all(reason.strip() for reason in holding.withheld.values()), f"{table}: a withheld column has no reason"
        assert set(holding.owners) <= columns[table]
        if holding.about is not None:
            assert holding.about in holding.owners, f"{table}: rows are about someone its owners do not name"
            if holding.erasure is Erasure.DELETE:
                others = set(holding.owners) - {holding.about}
                nullable = {column.name for column in holding.model.__table__.columns if column.nullable}
                assert others <= nullable, f"{table}: cannot blank another owner of a row about the person"
        if holding.erasure is Erasure.ANONYMIZE:
            assert holding.kept_because.strip(), f"{table} is anonymized, not deleted, without saying why"
            assert set(holding.blanked) <= columns[table]
            nullable = {column.name for column in holding.model.__table__.columns if column.nullable}
            assert set(holding.owners) | set(holding.blanked) <= nullable, f"{table}: cannot blank a NOT NULL column"


# --- one person's data, everywhere -----------------------------------------------------


@dataclass
class Seeded:
    user: User
    other: User
    staff: User


def appointment(offering: Offering, *, client: User, staff: User, days: int) -> Appointment:
    start = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=days)
    end = start + datetime.timedelta(minutes=offering.duration_minutes)
    return Appointment(
        client_id=client.id, staff_id=staff.id, offering_id=offering.id, starts_at=start, ends_at=end,
        occupied_from=start, occupied_until=end, price_cents=offering.price_cents, currency="EUR",
    )  # fmt: skip


@pytest.fixture
async def seeded(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, deliver, settings: Settings
) -> Seeded:
    """A person with a row in every holding, made through the app where it can be; and
    someone else with data of their own, which must never leak into the first's."""
    user = await make_user(
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+442079460958",
        postal_address="12 St James's Square\nLondon",
        country="GB",
        time_zone="Europe/London",
        language="en",
    )
    other = await make_user(name="Bruno Other", email="bruno@example.com", phone="+14155550142")
    staff = seeded_staff = await make_user(name="Sam Staff", email="sam@example.com", role=Role.STAFF)
    async with AsyncSession(db_engine) as session:
        session.add_all(
            [
                PolicyAcknowledgement(user_id=user.id, document="privacy", version=1, context="signup"),
                PolicyAcknowledgement(user_id=user.id, document="us_transfer", version=1, context="signup"),
                PolicyAcknowledgement(user_id=other.id, document="privacy", version=1, context="signup"),
                # Staff draft policies; here she does, so that one export covers every holding.
                PolicyVersion(kind=PolicyKind.TERMS, text="Terms\n\nA draft of hers.", created_by_id=user.id),
            ]
        )
        # She performs a service too (staff hold data of their own); so does someone else.
        cut = Offering(name="Haircut", duration_minutes=45, price_cents=3800)
        session.add(cut)
        await session.flush()
        session.add_all(
            [OfferingStaff(offering_id=cut.id, user_id=user.id), OfferingStaff(offering_id=cut.id, user_id=other.id)],
        )
        session.add_all(
            [
                WorkingHours(user_id=user.id, weekday=0, start_minute=540, end_minute=1020),
                WorkingHours(user_id=other.id, weekday=0, start_minute=600, end_minute=960),
                StaffProfile(user_id=user.id, display_name="Ada", bio="Numbers and engines."),
                StaffException(
                    user_id=user.id,
                    kind=ExceptionKind.TIME_OFF,
                    first_day=datetime.date(2027, 1, 4),
                    last_day=datetime.date(2027, 1, 8),
                    note="Skiing",
                ),
            ]
        )
        # Her appointments: one past, one to come; and one of someone else's.
        session.add_all(
            [
                appointment(cut, client=user, staff=seeded_staff, days=-30),
                appointment(cut, client=user, staff=seeded_staff, days=30),
                appointment(cut, client=other, staff=seeded_staff, days=31),
            ]
        )
        record(session, "client.viewed", actor=Actor(staff.id, "192.0.2.0/24"), subject_id=user.id)
        record(session, "client.viewed", actor=Actor(staff.id, "198.51.100.0/24"), subject_id=other.id)
        # Staff's notes: one about her; one she wrote about someone else, which is theirs.
        session.add_all(
            [
                ClientNote(client_id=user.id, author_id=staff.id, body="Ada Lovelace prefers mornings."),
                ClientNote(client_id=other.id, author_id=user.id, body="Bruno Q. Other takes tea, no sugar."),
            ]
        )
        await session.commit()
    # Her privacy complaint, answered by staff; his, which she (staff too) answered.
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        complaints, now = ComplaintService(session, settings), datetime.datetime.now(datetime.UTC)
        calendar = BusinessCalendar(ZoneInfo("Europe/Berlin"), "DE", "BE")
        hers = await complaints.receive(
            NewComplaint("Ada Lovelace", user.email, "Ada Lovelace was sent someone else's reminder."),
            calendar=calendar, received_at=now, actor=Actor(user.id, "192.0.2.0/24"), user=user,
        )  # fmt: skip
        await complaints.answer(hers.complaint, "Dear Ada Lovelace, we are looking into it.", ask=False,
                                version=hers.complaint.version, actor=Actor(staff.id, None), now=now)  # fmt: skip
        his = await complaints.receive(
            NewComplaint("Bruno Other", other.email, "A reminder went to Bruno Other's old address."),
            calendar=calendar, received_at=now, actor=Actor(other.id, None), user=other,
        )  # fmt: skip
        await complaints.answer(his.complaint, "We are looking into it.", ask=False, version=his.complaint.version,
                                actor=Actor(user.id, None), now=now)  # fmt: skip
    await sign_in(client, other.email)
    await post_form(client, "/profile/edit/name", {"version": "1", "name": "Bruno Q. Other"})
    await post_form(
        client, "/profile/edit/email", {"version": "2", "email": "bruno.new@example.com", "current_password": PASSWORD}
    )
    await post_form(client, "/consent", {"choice": "reject-all", "next": "/"})
    await post_form(client, "/logout", {})
    await sign_in(client, user.email)
    await post_form(client, "/consent", {"choice": "custom", "categories": "preferences", "next": "/"})
    await post_form(client, "/profile/edit/time_zone", {"version": "1", "time_zone": "Europe/Paris"})
    await post_form(
        client,
        "/profile/edit/email",
        {"version": "2", "email": "ada.new@example.com", "current_password": PASSWORD},
    )
    await deliver()  # some of her mail is sent, …
    async with AsyncSession(db_engine) as session:  # … and some still waits in the outbox
        context = {"name": user.name, "reset_url": "/"}
        enqueue(session, "password_changed", to=user.email, user_id=user.id, context=context)
        await session.commit()
    return Seeded(user, other, staff)


async def rows_of(engine: AsyncEngine, person: uuid.UUID) -> dict[str, int]:
    async with AsyncSession(engine) as session:
        return {
            holding.key: await session.scalar(
                select(func.count()).select_from(holding.model).where(holding.belongs_to(person))
            )
            or 0
            for holding in REGISTRY.holdings
        }


async def test_the_seed_reaches_every_holding(seeded: Seeded, db_engine: AsyncEngine) -> None:
    """Keeps the export and closure tests honest: when a capability adds a holding, this
    fails until the seed above gives the person a row in it."""
    empty = [key for key, count in (await rows_of(db_engine, seeded.user.id)).items() if not count]
    assert not empty, f"seed these holdings: {empty}"


def traces(person: User) -> list[str]:
    return [str(person.id), person.id.hex, person.email, person.name, *(v for v in (person.phone,) if v)]


async def test_the_export_holds_every_row_of_the_person_and_nothing_of_anyone_else(
    client: AsyncTestClient[Litestar], seeded: Seeded, db_engine: AsyncEngine
) -> None:
    response = await post_form(client, "/profile/export", {})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="smartscheduling-my-data-')
    assert response.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["data.html", "data.json"]
    data = json.loads(archive.read("data.json"))
    assert data["schema_version"] == 1
    assert data["person"] == str(seeded.user.id)
    counts = await rows_of(db_engine, seeded.user.id)
    assert {key: len(section["rows"]) for key, section in data["sections"].items()} == counts
    for holding in REGISTRY.holdings:
        for row in data["sections"][holding.key]["rows"]:
            assert set(holding.shown) <= set(row) <= {*holding.shown, *holding.derived_columns}
            assert not set(row) & set(holding.withheld)

    # Staff's note about her is hers; the one she wrote about someone else is not.
    notes = data["sections"]["client_notes"]["rows"]
    assert sorted(row["body"] for row in notes) == [
        "(a note you wrote on a client's record: it is theirs)",
        "Ada Lovelace prefers mornings.",
    ]
    (account,) = data["sections"]["account"]["rows"]
    assert account["email"] == "ada@example.com"
    assert account["phone"] == "+442079460958"
    assert account["time_zone"] == "Europe/Paris"
    assert "password_hash" not in account
    activity = data["sections"]["activity"]["rows"]
    assert {"action": "client.viewed", "by": "a staff member"}.items() <= next(
        row for row in activity if row["action"] == "client.viewed"
    ).items()
    assert any(row["action"] == "profile.updated" and row["details"] == {"fields": ["time_zone"]} for row in activity)
    # Delivered mail keeps no address; the message still waiting does.
    assert {row["to_address"] for row in data["sections"]["emails"]["rows"]} == {None, "ada@example.com"}

    readable = archive.read("data.html").decode()
    everything = archive.read("data.json").decode() + readable
    for trace in (*traces(seeded.other), "bruno.new@example.com", "Bruno Q. Other", str(seeded.staff.id), "Sam Staff"):
        assert trace not in everything, f"another person's data in the export: {trace}"
    for needle in ("<script", "<link", "src=", "http://", "https://", "<img", "url("):
        assert needle not in readable, f"data.html must work offline: found {needle}"
    assert "Ada Lovelace" in readable
    assert "12 St James&#39;s Square" in readable


async def test_the_export_is_audited(client: AsyncTestClient[Litestar], seeded: Seeded, db_engine: AsyncEngine) -> None:
    await post_form(client, "/profile/export", {})
    async with AsyncSession(db_engine) as session:
        (event,) = await session.scalars(select(AuditEvent).where(AuditEvent.action == "profile.exported"))
    assert (event.actor_id, event.subject_id) == (seeded.user.id, seeded.user.id)


async def test_your_data_shows_holdings_sign_ins_acknowledgements_and_staff_access(
    client: AsyncTestClient[Litestar], seeded: Seeded
) -> None:
    page = (await client.get("/profile/data")).text
    for holding in REGISTRY.holdings:
        assert holding.title.replace("'", "&#39;") in page
        assert holding.purpose.replace("'", "&#39;") in page
    assert "<td>Signed in</td>" in page
    assert "Storage of your data in the U.S." in page
    assert "<td>Sam Staff (Staff)</td>" in page  # who opened the record, by name and role
    assert "<td>Opened your record</td>" in page
    assert "Bruno" not in page


# --- closing the account ------------------------------------------------------------------


async def string_values(engine: AsyncEngine, *, tables: set[str] | None = None) -> list[str]:
    """Every text-ish value in every table (or in ``tables``), to search for traces of a person."""
    found: list[str] = []
    async with AsyncSession(engine) as session:
        for table in Model.metadata.sorted_tables:
            if tables is not None and table.name not in tables:
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | Text) or c.name.endswith("id")]
            columns += [c for c in table.columns if c.type.__class__.__name__ in {"JSON", "JsonDocument"}]
            if not columns:  # numbers only (a counter)
                continue
            for row in await session.execute(select(*columns)):
                found.extend(str(value) for value in row if value is not None)
    return found


async def test_closing_erases_every_trace_the_registry_lists(
    client: AsyncTestClient[Litestar], seeded: Seeded, db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    user = seeded.user
    before_other = await rows_of(db_engine, seeded.other.id)
    async with AsyncSession(db_engine) as session:
        events_before = await session.scalar(select(func.count()).select_from(AuditEvent))
    wrong = await post_form(client, "/profile/close", {"current_password": "not the password at all"})
    assert wrong.status_code == 422
    assert field_errors(wrong.text)["current_password"] == "That is not your current password."

    response = await post_form(client, "/profile/close", {"current_password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = (await client.get("/")).text
    assert not is_signed_in(home)
    assert "Your account is closed" in home

    assert set((await rows_of(db_engine, user.id)).values()) == {0}
    assert await rows_of(db_engine, seeded.other.id) == before_other  # nobody else lost anything
    async with AsyncSession(db_engine) as session:
        events_after = await session.scalar(select(func.count()).select_from(AuditEvent))
        closing = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "account_closed"))
    assert events_after == events_before + 2  # kept anonymized, plus the failed check and the closure
    async with AsyncSession(db_engine) as session:
        kept = (await session.execute(
            select(Appointment.starts_at, Appointment.status, Appointment.price_cents)
            .where(Appointment.client_id.is_(None)).order_by(Appointment.starts_at)
        )).all()  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    # Her past appointment stays in the figures; the one to come is cancelled; both are nobody's.
    assert [(start < now, status, price) for start, status, price in kept] == [
        (True, AppointmentStatus.BOOKED, 3800),
        (False, AppointmentStatus.CANCELLED, 3800),
    ]
    assert closing is not None
    assert closing.user_id is None
    assert closing.to_address == "ada@example.com"  # until it is delivered …

    await deliver()
    (goodbye,) = [m for m in mailbox.to("ada@example.com") if m["Subject"] == "Your account is closed"]
    assert "Ada Lovelace" in Mailbox.text(goodbye)
    left = await string_values(db_engine)  # once delivered, not even the outbox has the address
    for trace in (*traces(user), "ada.new@example.com", "12 St James", "192.0.2."):
        assert not [value for value in left if trace in value], f"{trace} survived the closure"

    assert digest(client.cookies.get("session", "")) not in await stored_keys(db_engine)
    assert (await sign_in(client, user.email)).status_code == 422


async def test_closing_ends_the_sessions_on_every_device(app: Litestar, make_user, db_engine: AsyncEngine) -> None:
    user = await make_user()
    async with AsyncTestClient(app) as other_device:
        await sign_in(other_device, user.email)
    async with AsyncTestClient(app) as client:
        await sign_in(client, user.email)
        assert len(await stored_keys(db_engine)) == 2
        await post_form(client, "/profile/close", {"current_password": PASSWORD})
        assert await stored_keys(db_engine, indexes=True) == []
        assert await stored_keys(db_engine) == [digest(client.cookies["session"])]  # holding just the flash


async def test_closing_is_all_or_nothing(
    client: AsyncTestClient[Litestar], seeded: Seeded, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await rows_of(db_engine, seeded.user.id)
    personal = {holding.model.__tablename__ for holding in REGISTRY.holdings}
    values_before = sorted(await string_values(db_engine, tables=personal))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the mail queue broke after every row was erased")

    # Fails after the erasure's statements ran, before the transaction commits.
    monkeypatch.setattr("smartscheduling.profile.services.enqueue", broken)
    response = await post_form(client, "/profile/close", {"current_password": PASSWORD})
    assert response.status_code == 500
    assert await rows_of(db_engine, seeded.user.id) == before
    assert sorted(await string_values(db_engine, tables=personal)) == values_before
    assert is_signed_in((await client.get("/profile")).text)


async def test_your_data_shows_every_time_in_the_time_zone_of_the_profile(
    client: AsyncTestClient[Litestar], make_user
) -> None:
    user = await make_user(time_zone="America/New_York")
    await sign_in(client, user.email)

    def sign_in_time(page: str) -> tuple[datetime.datetime, str]:
        found = re.search(r'<td><time datetime="([^"]+)">([^<]+)</time></td>\s*<td>Signed in', page)
        assert found, "the sign-in is listed with its time"
        return datetime.datetime.fromisoformat(found[1]), found[2]

    stored, shown = sign_in_time((await client.get("/profile/data")).text)
    new_york = stored.astimezone(ZoneInfo("America/New_York"))
    assert shown == new_york.strftime("%Y-%m-%d %H:%M %Z")
    assert shown.endswith((" EST", " EDT"))

    await post_form(client, "/profile/edit/time_zone", {"version": "1", "time_zone": "Asia/Tokyo"})
    again, shown = sign_in_time((await client.get("/profile/data")).text)
    assert again == stored
    assert shown == stored.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M JST")
