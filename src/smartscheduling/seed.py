"""Demo data for development databases.

Each capability contributes a seeder: an async function that adds its rows to the
session and returns lines to show the developer (e.g. demo sign-in details).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.config import Settings
from smartscheduling.db import metadata

Seeder = Callable[[AsyncSession, Settings], Awaitable[list[str]]]
SEEDERS: list[Seeder] = []


async def database_is_empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if await connection.scalar(select(exists().select_from(table))):
                return False
    return True


async def seed_demo(engine: AsyncEngine, settings: Settings) -> list[str]:
    """Run every seeder in one transaction: all demo data or none."""
    lines: list[str] = []
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        for seeder in SEEDERS:
            lines += await seeder(session, settings)
    return lines or ["There is no demo data to load yet."]


async def seed_if_empty(engine: AsyncEngine, settings: Settings) -> list[str]:
    if await database_is_empty(engine):
        return await seed_demo(engine, settings)
    return []
