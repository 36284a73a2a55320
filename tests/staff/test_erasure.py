"""Anonymizing or deleting one client: for a client with everything (an account,
appointments of every status, notes, consents, e-mails sent), no stored value anywhere
keeps their name, addresses or phone afterwards (every text column of every table is
scanned), the business's figures are exactly what they were (anonymize), the person's
rows are gone (delete), nobody else loses anything, and a failure half-way leaves
everything as it was."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import NO_PASSWORD, Role, User
from smartscheduling.app import create_app
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor
from smartscheduling.config import Settings
from smartscheduling.personal_data import Erasure, Registry
from smartscheduling.policies.models import PolicyAcknowledgement
from smartscheduling.registry import REGISTRY
from smartscheduling.scheduling.models import Appointment, AppointmentStatus, Offering
from smartscheduling.staff.erasure import ErasureService, redact
from smartscheduling.staff.figures import Figures, FiguresService
from smartscheduling.staff.models import ClientNote
from tests.helpers import field_errors, post_form, sign_in
from tests.profile.test_personal_data import rows_of, string_values
from tests.scheduling.test_booking import MONDAY, NOW, at, book, business_of, salon


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=lambda: NOW), base_url="http://testserver.local") as c:
        yield c


@dataclass
class Salon:
    rita: User
    otto: User
    walk_in: User
    officer: User
    stylists: list[User]


def past(
    offering: Offering, client: User, staff: User, *, days_ago: int, hour: int, status: AppointmentStatus
) -> Appointment:
    start = NOW.replace(hour=hour) - datetime.timedelta(days=days_ago)
    end = start + datetime.timedelta(minutes=offering.duration_minutes)
    return Appointment(
        client_id=client.id, staff_id=staff.id, offering_id=offering.id, starts_at=start, ends_at=end,
        occupied_from=start, occupied_until=end + datetime.timedelta(minutes=offering.buffer_after_minutes),
        price_cents=offering.price_cents, currency="EUR", status=status,
    )  # fmt: skip


@pytest.fixture
async def rich(client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine, deliver) -> Salon:
    """Rita has everything a client can leave behind; Otto and a walk-in have some too."""
    cut, stylists = await salon(db_engine, make_user, staff=2)
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Pia Privacy")
    rita = await make_user(name="Rita Richter", email="rita@example.com", phone="+4915112345678", country="DE")
    otto = await make_user(name="Otto Other", email="otto@example.com", phone="+4915199999999")
    walk_in = await make_user(name="Wally Walkin", email=None, contact_email="wally@example.com", password_hash="!")
    async with AsyncSession(db_engine) as session:
        statuses = [AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.BOOKED]
        for n, status in enumerate(statuses * 3):
            for person, hour in ((rita, 9), (otto, 11), (walk_in, 14)):
                session.add(past(cut, person, stylists[n % 2], days_ago=3 + n * 5, hour=hour, status=status))
        session.add(past(cut, rita, stylists[0], days_ago=2, hour=15, status=AppointmentStatus.CANCELLED))
        session.add_all(
            [
                ClientNote(client_id=rita.id, author_id=stylists[0].id, body="Rita Richter: sensitive scalp."),
                ClientNote(client_id=otto.id, author_id=stylists[1].id, body="Otto likes it short."),
                PolicyAcknowledgement(user_id=rita.id, document="privacy", version=1, context="signup"),
            ]
        )
        await session.commit()
    await book(db_engine, rita, at(MONDAY, 10), staff_id=stylists[0].id)  # to come: confirmed by e-mail
    await book(db_engine, otto, at(MONDAY, 10), staff_id=stylists[1].id)
    await sign_in(client, rita.email)
    await post_form(client, "/consent", {"choice": "custom", "categories": "preferences", "next": "/"})
    await post_form(client, "/profile/edit/name", {"version": "1", "name": "Rita Richter"})
    await post_form(client, "/logout", {})
    await deliver()
    await sign_in(client, officer.email)
    await client.get(f"/staff/clients/{rita.id}")  # staff opened her record: an event about her
    return Salon(rita, otto, walk_in, officer, stylists)


async def figures_now(engine: AsyncEngine) -> Figures:
    async with AsyncSession(engine) as session:
        business = await business_of(session)
        return await FiguresService(session).figures(business, business.local_date(NOW))


def traces(person: User) -> list[str]:
    values = [str(person.id), person.id.hex, person.name, *person.name.split()]
    values += [value for value in (person.email, person.contact_email, person.phone) if value]
    if person.phone:
        values.append(person.phone.removeprefix("+"))
    return values


async def left_of(engine: AsyncEngine, person: User) -> list[str]:
    everything = await string_values(engine)
    return [trace for trace in traces(person) if any(trace.lower() in value.lower() for value in everything)]


async def anonymous_appointments(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        counted = select(func.count()).select_from(Appointment).where(Appointment.client_id.is_(None))
        return await session.scalar(counted) or 0


async def test_anonymizing_leaves_no_trace_and_every_figure_as_it_was(
    client: AsyncTestClient[Litestar], rich: Salon, db_engine: AsyncEngine, deliver
) -> None:
    before = await figures_now(db_engine)
    assert (before.appointments, before.no_shows) == (27, 9)  # the seed counts: an empty one would pass
    others = {person.id: await rows_of(db_engine, person.id) for person in (rich.otto, rich.walk_in)}
    assert await left_of(db_engine, rich.rita)  # she is everywhere, until …

    page = await client.get(f"/staff/clients/{rich.rita.id}/erase/anonymize")
    assert page.status_code == 200
    assert "stay, as an <strong>anonymous client" in page.text
    unconfirmed = await post_form(client, f"/staff/clients/{rich.rita.id}/erase/anonymize", {"reason": "Asked."})
    assert unconfirmed.status_code == 422
    assert field_errors(unconfirmed.text) == {"confirm": "Tick the box to confirm: this cannot be undone."}
    done = await post_form(
        client,
        f"/staff/clients/{rich.rita.id}/erase/anonymize",
        {"reason": "Rita Richter called from +49 151 1234 5678 and asked (rita@example.com).", "confirm": "true"},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/staff/clients")
    assert "Anonymized: nothing identifies the client any more" in (await client.get("/staff/clients")).text
    await deliver()  # her goodbye e-mail goes; then not even the outbox has her address

    assert await left_of(db_engine, rich.rita) == []
    assert await figures_now(db_engine) == before
    assert set((await rows_of(db_engine, rich.rita.id)).values()) == {0}
    assert {person: await rows_of(db_engine, person) for person in others} == others
    async with AsyncSession(db_engine) as session:
        (event,) = await session.scalars(select(AuditEvent).where(AuditEvent.action == "client.anonymized"))
        kept = (await session.execute(
            select(Appointment.status, func.count()).where(Appointment.client_id.is_(None)).group_by(Appointment.status)
        )).all()  # fmt: skip
    assert (event.actor_id, event.subject_id) == (rich.officer.id, None)
    assert event.details["reason"] == "[the client] called from [the client] and asked ([the client])."
    assert event.details["had_account"] is True
    assert dict(kept) == {
        AppointmentStatus.COMPLETED: 3, AppointmentStatus.NO_SHOW: 3, AppointmentStatus.BOOKED: 3,
        AppointmentStatus.CANCELLED: 2,  # the one she had cancelled, and the one to come
    }  # fmt: skip
    assert (await sign_in(client, "rita@example.com")).status_code == 422


async def test_deleting_takes_everything_about_the_client_and_nothing_of_anyone_else(
    client: AsyncTestClient[Litestar], rich: Salon, db_engine: AsyncEngine, deliver
) -> None:
    before = await figures_now(db_engine)
    others = {person.id: await rows_of(db_engine, person.id) for person in (rich.otto, rich.walk_in)}
    done = await post_form(
        client,
        f"/staff/clients/{rich.walk_in.id}/erase/delete",
        {"reason": "Wally asked at the desk.", "confirm": "on"},
    )
    assert done.status_code == 303
    await deliver()
    assert await left_of(db_engine, rich.walk_in) == []
    assert set((await rows_of(db_engine, rich.walk_in.id)).values()) == {0}
    after = await figures_now(db_engine)
    assert (after.appointments, after.no_shows) == (before.appointments - 9, before.no_shows - 3)
    async with AsyncSession(db_engine) as session:
        assert (
            await session.scalar(select(func.count()).select_from(Appointment).where(Appointment.client_id.is_(None)))
            == 0
        )
        (event,) = await session.scalars(select(AuditEvent).where(AuditEvent.action == "client.deleted"))
    assert event.details["reason"] == "[the client] asked at the desk."
    assert event.details["had_account"] is False
    others.pop(rich.walk_in.id, None)
    assert {person: await rows_of(db_engine, person) for person in others} == others
    # and an account holder, deleted: the same, their account closed
    await post_form(client, f"/staff/clients/{rich.rita.id}/erase/delete", {"reason": "By letter.", "confirm": "on"})
    await deliver()
    assert await left_of(db_engine, rich.rita) == []
    assert await anonymous_appointments(db_engine) == 0
    assert (await figures_now(db_engine)).appointments == before.appointments - 18


async def test_a_failure_half_way_leaves_everything_as_it_was(rich: Salon, db_engine: AsyncEngine) -> None:
    async def fail(*_: object) -> None:
        raise RuntimeError("the disk is full")

    *first, last = REGISTRY.holdings
    sabotaged = Registry(
        holdings=(*first, dataclasses.replace(last, before_erasure=fail)),  # after every other holding ran
        not_personal=REGISTRY.not_personal,
    )
    before = await rows_of(db_engine, rich.rita.id)
    everything = sorted(await string_values(db_engine))
    for how in Erasure:
        async with AsyncSession(db_engine) as session:
            rita = await session.get_one(User, rich.rita.id)
            with pytest.raises(RuntimeError, match="the disk is full"):
                await ErasureService(session, sabotaged).erase(
                    rita, how, reason="test", actor=Actor(rich.officer.id, None), now=NOW
                )
        assert await rows_of(db_engine, rich.rita.id) == before
        assert sorted(await string_values(db_engine)) == everything


async def test_only_privacy_officers_and_admins_erase_staff_ask_them(
    client: AsyncTestClient[Litestar], rich: Salon, make_user, db_engine: AsyncEngine
) -> None:
    await post_form(client, "/logout", {})
    desk = await make_user(role=Role.STAFF, name="Dana Desk")
    await sign_in(client, desk.email)
    page = (await client.get(f"/staff/clients/{rich.otto.id}")).text
    assert "Ask a privacy officer" in page
    assert "/erase/anonymize" not in page
    for how in ("anonymize", "delete"):
        url = f"/staff/clients/{rich.otto.id}/erase/{how}"
        assert (await client.get(url)).status_code == 403
        assert (await post_form(client, url, {"reason": "x", "confirm": "on"})).status_code == 403
    empty = await post_form(client, f"/staff/clients/{rich.otto.id}/erasure-request", {"how": "delete", "reason": ""})
    assert empty.status_code == 422
    assert field_errors(empty.text) == {"reason": "Say why, so the privacy officer can act on it."}
    asked = await post_form(
        client, f"/staff/clients/{rich.otto.id}/erasure-request", {"how": "delete", "reason": "Otto Other phoned."}
    )
    assert asked.status_code == 303
    await post_form(client, "/logout", {})
    await sign_in(client, rich.officer.email)
    page = (await client.get(f"/staff/clients/{rich.otto.id}")).text
    assert "Dana Desk asked to delete this client" in page
    assert "[the client] phoned." in page
    assert (await client.get(f"/staff/clients/{rich.otto.id}/erase/forget")).status_code == 404


def test_a_reason_loses_the_name_addresses_and_phone_however_written() -> None:
    person = User(name="Ana María Öz", email="ana@example.com", contact_email=None, phone="+34612345678",
                  password_hash=NO_PASSWORD)  # fmt: skip
    said = "ANA MARÍA ÖZ (ana@example.com, 612 34 56 78) — María asked; Anastasia did not."
    assert redact(said, person) == "[the client] ([the client], [the client]) — [the client] asked; Anastasia did not."
    unaccented = "Ana Maria Oz wrote from her other address, ana@elsewhere.example."
    assert redact(unaccented, person) == "[the client] wrote from her other address, [the client]@elsewhere.example."


async def test_an_appointment_that_took_place_still_holds_its_time(db_engine: AsyncEngine, make_user) -> None:
    """PostgreSQL's exclusion constraint covers every appointment that is not cancelled
    (SQLite: the booking's serialized check, tested with the races)."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no exclusion constraints")
    cut, [ana] = await salon(db_engine, make_user)
    someone = await make_user()
    async with AsyncSession(db_engine) as session:
        session.add(past(cut, someone, ana, days_ago=1, hour=10, status=AppointmentStatus.COMPLETED))
        await session.commit()
        session.add(past(cut, someone, ana, days_ago=1, hour=10, status=AppointmentStatus.BOOKED))
        with pytest.raises(IntegrityError, match="appointment_no_overlap"):
            await session.commit()


async def test_the_dashboard_shows_the_figures_as_charts_and_tables(
    client: AsyncTestClient[Litestar], rich: Salon
) -> None:
    page = (await client.get("/staff/dashboard")).text
    assert "<dt>Appointments</dt><dd>27</dd>" in page
    assert "<dt>Revenue</dt><dd>684.00 EUR</dd>" in page  # 18 of 27 at 38.00: no-shows bring nothing
    assert "<dt>No-show rate</dt><dd>33.3 %</dd>" in page
    assert page.count('role="img"') == 3
    assert '<title id="per-day-title">Appointments per day</title>' in page
    assert '<th scope="row">Stylist 0</th><td>11 h 15 min</td><td>280 h 00 min</td><td>4 %</td>' in page
    assert '<th scope="row">Stylist 1</th><td>9 h 00 min</td><td>280 h 00 min</td><td>3 %</td>' in page
    assert "<td>Haircut</td><td>" in page
