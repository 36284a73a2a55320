"""The business's audit log for privacy officers and administrators: every event, with
who, what, about whom and from which network, filtered by person, staff member, action
and day, newest first, a page at a time."""

from __future__ import annotations

import datetime
import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.app import create_app
from smartscheduling.audit.models import AuditEvent
from smartscheduling.config import Settings
from tests.helpers import sign_in
from tests.scheduling.test_booking import NOW, salon


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings, clock=lambda: NOW), base_url="http://testserver.local") as c:
        yield c


def rows(page: str) -> list[str]:
    return re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, flags=re.S)


async def test_privacy_officers_filter_the_log_by_person_staff_action_and_day(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await salon(db_engine, make_user, staff=0)  # the business's days are Berlin's
    officer = await make_user(role=Role.PRIVACY_OFFICER, name="Pia Privacy")
    dana = await make_user(role=Role.STAFF, name="Dana Desk")
    sam = await make_user(role=Role.STAFF, name="Sam Staff")
    zoe = await make_user(name="Zoë Müller")
    bob = await make_user(name="Bob Other")
    day = datetime.datetime(2026, 11, 30, 12, tzinfo=datetime.UTC)
    async with AsyncSession(db_engine) as session:
        session.add_all(
            [
                AuditEvent(
                    action="client.viewed",
                    actor_id=dana.id,
                    subject_id=zoe.id,
                    occurred_at=day,
                    ip_prefix="192.0.2.0/24",
                    details={},
                ),
                AuditEvent(
                    action="client.updated",
                    actor_id=sam.id,
                    subject_id=zoe.id,
                    occurred_at=day + datetime.timedelta(days=1),
                    details={"fields": ["phone"]},
                ),
                AuditEvent(
                    action="client.viewed",
                    actor_id=sam.id,
                    subject_id=bob.id,
                    occurred_at=day + datetime.timedelta(days=2),
                    details={},
                ),
            ]
        )
        await session.commit()
    await sign_in(client, officer.email)

    async def shown(**params: str) -> list[str]:
        response = await client.get("/staff/audit", params={"action": "", **params})
        assert response.status_code == 200
        return [row for row in rows(response.text) if "client." in row or "your record" in row]

    assert len(await shown()) == 3
    (only,) = await shown(person="MULLER", action="client.updated")
    assert "Sam Staff (Staff)" in only
    assert "Changed your record: phone" in only
    assert "Zoë Müller" in only
    assert len(await shown(staff=str(sam.id))) == 2
    assert len(await shown(**{"from": "2026-12-01", "to": "2026-12-01"})) == 1
    assert len(await shown(person="bob")) == 1
    assert await shown(person="%") == []


async def test_the_log_pages_back_in_time(client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    async with AsyncSession(db_engine) as session:
        session.add_all(
            AuditEvent(action="test.event", occurred_at=start + datetime.timedelta(minutes=n), details={"n": n})
            for n in range(70)
        )
        await session.commit()
    await sign_in(client, officer.email)
    first = (await client.get("/staff/audit", params={"action": "test.event"})).text
    assert len(rows(first)) == 50
    older = re.search(r'href="(/staff/audit\?[^"]*before=[^"]+)"', first)
    assert older is not None
    second = (await client.get(older[1].replace("&amp;", "&"))).text
    assert len(rows(second)) == 20
    assert "action=test.event" in older[1]
    assert "Older events" not in second


async def test_staff_cannot_read_the_whole_log(client: AsyncTestClient[Litestar], make_user) -> None:
    desk = await make_user(role=Role.STAFF)
    await sign_in(client, desk.email)
    assert (await client.get("/staff/audit")).status_code == 403
