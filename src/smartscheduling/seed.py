"""Demo data for development databases.

Each capability contributes a seeder: an async function that adds its rows (skipping
those already there) and returns lines to show the developer, such as demo sign-ins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import User
from smartscheduling.accounts.seed import DEMO_USERS, credentials, seed_demo_users
from smartscheduling.config import Settings
from smartscheduling.db import metadata
from smartscheduling.processors.seed import seed_demo_processors
from smartscheduling.scheduling.seed import seed_demo_business

Seeder = Callable[[AsyncSession, Settings], Awaitable[list[str]]]
SEEDERS: list[Seeder] = [seed_demo_users, seed_demo_processors, seed_demo_business]
#: Filled by the migrations themselves (the shipped policies): not a sign of use.
MIGRATION_DATA = frozenset({"policy_version"})


async def database_is_empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name not in MIGRATION_DATA and await connection.scalar(select(exists().select_from(table))):
                return False
    return True


async def seed_demo(engine: AsyncEngine, settings: Settings) -> list[str]:
    lines: list[str] = []
    async with AsyncSession(engine, expire_on_commit=False) as session:
        for seeder in SEEDERS:
            lines += await seeder(session, settings)
    return lines


async def seed_if_empty(engine: AsyncEngine, settings: Settings) -> list[str]:
    """Seed an empty database; otherwise just remind the developer of the demo sign-ins."""
    if await database_is_empty(engine):
        return await seed_demo(engine, settings)
    async with engine.connect() as connection:
        has_demo = await connection.scalar(select(exists().where(User.email == DEMO_USERS[0][1])))
    return credentials() if has_demo else []
