"""The processor register: public, edited by administrators only, every change audited."""

from __future__ import annotations

import datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.audit.models import AuditEvent
from smartscheduling.processors.models import Processor
from smartscheduling.web.templating import long_date
from tests.helpers import csrf_token, field_errors, post_form, sign_in
from tests.test_pages import visible_text

HOSTING = {
    "name": "Example Hosting, Inc.",
    "purpose": "Hosts the application and its database.",
    "data_categories": "Everything the service holds.",
    "location": "United States (Virginia)",
    "safeguards": "Data processing agreement; encryption at rest.",
    "website": "https://hosting.example",
}


async def audit_actions(engine: AsyncEngine) -> list[tuple[str, dict]]:
    async with AsyncSession(engine) as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at))).all()
    return [(e.action, e.details) for e in events if e.action.startswith("processor.")]


async def test_admins_keep_the_public_register_and_every_change_is_audited(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    assert "No processor is registered yet." in (await client.get("/privacy/processors")).text
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/processors/new")
    bad = await post_form(client, "/staff/processors/new", {**HOSTING, "website": "http://hosting.example"})
    assert bad.status_code == 422
    assert field_errors(bad.text) == {"website": "Enter the web address in full, starting with https://"}
    assert (await post_form(client, "/staff/processors/new", HOSTING)).status_code == 303
    assert (await post_form(client, "/staff/processors/new", HOSTING)).status_code == 409  # same name
    public = (await client.get("/privacy/processors")).text
    assert "United States (Virginia)" in visible_text(public)
    assert '<a href="https://hosting.example" rel="noopener noreferrer" class="external">' in public
    admin_page = (await client.get("/staff/processors")).text
    edit_path = admin_page.split('<a href="/staff/processors/', 1)[1].split('"', 1)[0]
    if edit_path == "new":
        edit_path = admin_page.split('<a href="/staff/processors/', 2)[2].split('"', 1)[0]
    changed = {**HOSTING, "location": "United States (Oregon)"}
    assert (await post_form(client, f"/staff/processors/{edit_path}", changed)).status_code == 303
    assert "United States (Oregon)" in (await client.get("/privacy/processors")).text
    assert (await post_form(client, f"/staff/processors/{edit_path}/delete", {})).status_code == 303
    assert "No processor is registered yet." in (await client.get("/privacy/processors")).text
    assert await audit_actions(db_engine) == [
        ("processor.created", {"processor": "Example Hosting, Inc."}),
        ("processor.updated", {"processor": "Example Hosting, Inc.", "fields": ["location"]}),
        ("processor.deleted", {"processor": "Example Hosting, Inc."}),
    ]


async def test_only_admins_may_edit_the_register(client: AsyncTestClient[Litestar], make_user) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in(client, officer.email)
    assert (await client.get("/staff/processors")).status_code == 403
    assert (await post_form(client, "/staff/processors/new", HOSTING)).status_code == 403
    assert (await client.get("/privacy/processors")).status_code == 200


async def test_removing_a_processor_changes_the_registers_last_changed_date(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/processors/new")
    for name in ("Kept Hosting", "Removed Mail"):
        assert (await post_form(client, "/staff/processors/new", {**HOSTING, "name": name})).status_code == 303
    async with db_engine.begin() as connection:  # both were added long ago
        long_ago = datetime.datetime(2020, 1, 2, tzinfo=datetime.UTC)
        await connection.execute(update(Processor).values(updated_at=long_ago))
        audited = update(AuditEvent).where(AuditEvent.action.like("processor.%"))
        await connection.execute(audited.values(occurred_at=long_ago))
    assert "Last changed 2 January 2020." in visible_text((await client.get("/privacy/processors")).text)
    async with AsyncSession(db_engine) as session:
        removed = await session.scalar(select(Processor.id).where(Processor.name == "Removed Mail"))
    assert (await post_form(client, f"/staff/processors/{removed}/delete", {})).status_code == 303
    page = visible_text((await client.get("/privacy/processors")).text)
    assert page.count("Removed Mail") == 1  # only in "Removed Mail removed from the register."
    assert f"Last changed {long_date(datetime.datetime.now(datetime.UTC).date())}." in page


async def test_renaming_to_a_name_in_the_register_is_a_conflict_shown_on_the_form(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await csrf_token(client, "/staff/processors/new")
    for name in ("Kept Hosting", "Other Mail"):
        assert (await post_form(client, "/staff/processors/new", {**HOSTING, "name": name})).status_code == 303
    async with AsyncSession(db_engine) as session:
        other = await session.scalar(select(Processor.id).where(Processor.name == "Other Mail"))
    response = await post_form(client, f"/staff/processors/{other}", {**HOSTING, "name": "Kept Hosting"})
    assert response.status_code == 409
    assert field_errors(response.text) == {"name": "A processor with this name is already in the register."}
    assert 'value="Kept Hosting"' in response.text  # what was typed stays in the form
    async with AsyncSession(db_engine) as session:
        names = (await session.scalars(select(Processor.name).order_by(Processor.name))).all()
    assert names == ["Kept Hosting", "Other Mail"]
    assert [action for action, _ in await audit_actions(db_engine)] == ["processor.created", "processor.created"]
