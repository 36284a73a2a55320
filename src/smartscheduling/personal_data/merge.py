"""Joining two records of one person: everything the registry lists of ``source`` (a
client record staff made) moves to ``into`` (the account the person made later), then
the source row goes. Runs inside the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.personal_data import Registry


async def merge_person(session: AsyncSession, registry: Registry, source: uuid.UUID, into: uuid.UUID) -> int:
    """Rows moved from ``source`` to ``into`` (the account row itself not counted)."""
    account, *holdings = registry.holdings
    moved = 0
    for holding in holdings:
        for column in holding.owners:
            result = await session.execute(
                update(holding.model)
                .where(getattr(holding.model, column) == source)
                .values({column: into})
                .execution_options(synchronize_session=False)
            )
            moved += result.rowcount or 0
    await session.execute(
        delete(account.model).where(account.belongs_to(source)).execution_options(synchronize_session=False)
    )
    return moved
