"""Services ("offerings"): administrators keep them, every change audited, archived and
never deleted, who performs each; in Chromium with JavaScript on and off."""

from __future__ import annotations

import re
import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.audit.models import AuditEvent
from smartscheduling.scheduling.models import Offering, OfferingStaff
from tests.helpers import csrf_token, field_errors, form_error, post_form, sign_in
from tests.policies.test_browser_policies import sign_in_as

CUT = {"name": "Haircut", "description": "Wash, cut and dry.", "duration_minutes": "45", "price": "38,5",
       "buffer_before_minutes": "0", "buffer_after_minutes": "15"}  # fmt: skip


async def offerings(engine: AsyncEngine) -> list[tuple[Offering, set[uuid.UUID]]]:
    async with AsyncSession(engine) as session:
        found = (await session.scalars(select(Offering).order_by(Offering.name))).all()
        links = (await session.execute(select(OfferingStaff.offering_id, OfferingStaff.user_id))).all()
    return [(o, {user for offering, user in links if offering == o.id}) for o in found]


async def offering_events(engine: AsyncEngine) -> list[tuple[str, dict]]:
    async with AsyncSession(engine) as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at))).all()
    return [(e.action, e.details) for e in events if e.action.startswith("offering.")]


async def test_only_administrators_keep_the_services(client: AsyncTestClient[Litestar], make_user) -> None:
    assert (await client.get("/staff/offerings", follow_redirects=False)).status_code == 303
    staff = await make_user(role=Role.STAFF)
    await sign_in(client, staff.email)
    assert (await client.get("/staff/offerings")).status_code == 403
    assert (await post_form(client, "/staff/offerings/new", CUT)).status_code == 403


async def test_an_admin_adds_changes_and_archives_a_service_and_every_step_is_audited(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    ana = await make_user(role=Role.STAFF, name="Ana Stylist")
    ben = await make_user(role=Role.STAFF, name="Ben Barber")
    await make_user(role=Role.CLIENT, name="Carla Client")
    await sign_in(client, admin.email)
    form = (await client.get("/staff/offerings/new")).text
    assert "Ana Stylist" in form
    assert "Ben Barber" in form
    assert "Carla Client" not in form  # clients perform nothing
    added = await post_form(client, "/staff/offerings/new", {**CUT, "staff": str(ana.id)})
    assert (added.status_code, added.headers["location"]) == (303, "/staff/offerings")
    [(cut, staff)] = await offerings(db_engine)
    assert (cut.name, cut.duration_minutes, cut.price_cents, cut.buffer_after_minutes) == ("Haircut", 45, 3850, 15)
    assert staff == {ana.id}
    listing = (await client.get("/staff/offerings")).text
    assert "Haircut added." in listing
    assert "<td>38.50</td>" in listing
    edit = (await client.get(f"/staff/offerings/{cut.id}")).text
    assert 'value="38.50"' in edit
    assert f'value="{ana.id}" checked' in edit
    both = await client.post(
        f"/staff/offerings/{cut.id}",
        data={
            "_csrf_token": client.cookies.get("csrftoken"),
            **CUT,
            "version": "1",
            "staff": [str(ana.id), str(ben.id)],
        },
        follow_redirects=False,
    )
    assert both.status_code == 303
    [(cut, staff)] = await offerings(db_engine)
    assert staff == {ana.id, ben.id}
    assert cut.version == 2  # a change of who performs it moves the version too
    archived = await post_form(client, f"/staff/offerings/{cut.id}/archive", {"archived": "true"})
    assert archived.status_code == 303
    assert "Haircut is archived: no longer offered for booking." in (await client.get("/staff/offerings")).text
    [(cut, _)] = await offerings(db_engine)
    assert cut.archived_at is not None
    assert (await post_form(client, f"/staff/offerings/{cut.id}/archive", {"archived": "false"})).status_code == 303
    [(cut, _)] = await offerings(db_engine)
    assert cut.archived_at is None
    assert await offering_events(db_engine) == [
        ("offering.created", {"offering": "Haircut", "staff": 1}),
        ("offering.updated", {"offering": "Haircut", "fields": ["staff"]}),
        ("offering.archived", {"offering": "Haircut"}),
        ("offering.restored", {"offering": "Haircut"}),
    ]


async def test_bad_services_are_refused_field_by_field_and_nothing_is_written(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    client_person = await make_user(role=Role.CLIENT)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/offerings/new")
    bad = {**CUT, "duration_minutes": "7", "price": "cheap", "buffer_after_minutes": "500"}
    refused = await post_form(client, "/staff/offerings/new", bad)
    assert refused.status_code == 422
    assert field_errors(refused.text) == {
        "duration_minutes": "Choose a multiple of 5 minutes.",
        "price": "Enter the price as an amount, like 25 or 25.50.",
        "buffer_after_minutes": "Enter time kept free after in minutes, 0 to 120.",
    }
    assert 'value="cheap"' in refused.text  # what was typed stays
    tampered = await post_form(client, "/staff/offerings/new", {**CUT, "staff": "not-an-id"})
    assert field_errors(tampered.text) == {"staff": "Choose the staff members from the list."}
    a_client = await post_form(client, "/staff/offerings/new", {**CUT, "staff": str(client_person.id)})
    assert a_client.status_code == 422
    assert field_errors(a_client.text) == {"staff": "Choose the staff members from the list."}
    assert await offerings(db_engine) == []
    assert (await post_form(client, "/staff/offerings/new", CUT)).status_code == 303
    taken = await post_form(client, "/staff/offerings/new", CUT)
    assert taken.status_code == 409
    assert field_errors(taken.text) == {"name": "Another service already has this name (perhaps an archived one)."}
    assert len(await offerings(db_engine)) == 1
    assert (await client.get(f"/staff/offerings/{uuid.uuid4()}")).status_code == 404


async def test_two_tabs_cannot_overwrite_each_other(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/offerings/new")
    await post_form(client, "/staff/offerings/new", CUT)
    [(cut, _)] = await offerings(db_engine)
    assert (
        await post_form(client, f"/staff/offerings/{cut.id}", {**CUT, "version": "1", "price": "40"})
    ).status_code == 303
    late = await post_form(client, f"/staff/offerings/{cut.id}", {**CUT, "version": "1", "price": "35"})
    assert late.status_code == 409
    assert form_error(late.text).startswith("Someone saved this service after you opened this form")  # type: ignore[union-attr]
    assert 'value="35"' in late.text
    assert 'name="version" value="2"' in late.text
    [(cut, _)] = await offerings(db_engine)
    assert cut.price_cents == 4000


async def test_services_in_the_browser(page: Page, make_user, javascript: bool) -> None:
    admin = await make_user(role=Role.ADMIN)
    await make_user(role=Role.STAFF, name="Ana Stylist")
    await sign_in_as(page, admin.email)
    await page.get_by_role("link", name="Services", exact=True).click()
    await page.get_by_role("link", name="Add a service").click()
    await page.get_by_label("Name", exact=True).fill("Colour")
    await page.get_by_label("Duration (minutes)").fill("90")
    await page.get_by_label("Price").fill("eighty")
    await page.get_by_label("Ana Stylist").check()
    await page.get_by_role("button", name="Add the service").click()
    await expect(page.get_by_text("Enter the price as an amount, like 25 or 25.50.")).to_be_visible()
    await expect(page.get_by_label("Ana Stylist")).to_be_checked()  # nothing chosen is lost
    await page.get_by_label("Price").fill("80")
    await page.get_by_role("button", name="Add the service").click()
    await expect(page.get_by_text("Colour added.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Colour"))
    await expect(row).to_contain_text("90 min")
    await row.get_by_role("button", name=re.compile("Archive")).click()
    await expect(page.get_by_text("Colour is archived: no longer offered for booking.")).to_be_visible()
    await expect(page.get_by_role("row", name=re.compile("Colour"))).to_contain_text("Archived")
