"""A GET reads outside a transaction (no BEGIN/ROLLBACK round trips) unless its route
declares ``opt=WRITES``; such a GET cannot write by mistake, and every POST gets one."""

from __future__ import annotations

import datetime

import pytest
from litestar import Litestar, MediaType, get, post
from litestar.di import NamedDependency
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.app import create_app
from smartscheduling.consent.models import PageViewCount
from smartscheduling.db import WRITES
from tests.helpers import post_form

DAY = datetime.date(2026, 12, 3)


async def transaction_of(session: AsyncSession) -> str:
    """How the request's connection runs its statements, as the driver says."""
    connection = await session.connection()
    await connection.exec_driver_sql("SELECT 1")
    driver = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":
        return "transaction" if driver.is_in_transaction() else "autocommit"  # type: ignore[union-attr]
    return "autocommit" if driver.isolation_level is None else "transaction"  # type: ignore[union-attr]


@get("/_test/tx", media_type=MediaType.TEXT)
async def reading(db_session: NamedDependency[AsyncSession]) -> str:
    return await transaction_of(db_session)


@get("/_test/tx/writes", media_type=MediaType.TEXT, opt=WRITES)
async def declared_writer(db_session: NamedDependency[AsyncSession]) -> str:
    return await transaction_of(db_session)


@post("/_test/tx", media_type=MediaType.TEXT, status_code=200)
async def posting(db_session: NamedDependency[AsyncSession]) -> str:
    return await transaction_of(db_session)


@get("/_test/tx/sneaky", media_type=MediaType.TEXT)
async def undeclared_writer(db_session: NamedDependency[AsyncSession]) -> str:
    db_session.add(PageViewCount(day=DAY, route="/sneaky", views=1))
    await db_session.commit()
    return "written"


@pytest.fixture
def app(settings) -> Litestar:
    app = create_app(settings)
    for handler in (reading, declared_writer, posting, undeclared_writer):
        app.register(handler)
    return app


async def test_a_get_reads_outside_a_transaction(client) -> None:
    page = await client.get("/_test/tx")
    assert (page.status_code, page.text) == (200, "autocommit")


async def test_a_get_that_declares_it_writes_and_every_post_run_in_a_transaction(client) -> None:
    declared = await client.get("/_test/tx/writes")
    assert (declared.status_code, declared.text) == (200, "transaction")
    posted = await post_form(client, "/_test/tx", {})
    assert (posted.status_code, posted.text) == (200, "transaction")


async def test_a_get_that_writes_without_declaring_it_fails_and_writes_nothing(client, db_engine: AsyncEngine) -> None:
    page = await client.get("/_test/tx/sneaky")
    assert page.status_code == 500
    async with AsyncSession(db_engine) as session:
        assert await session.scalar(select(func.count()).select_from(PageViewCount)) == 0
