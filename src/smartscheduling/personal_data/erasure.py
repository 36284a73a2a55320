"""Erasing a person: every holding in the registry, deleted or anonymized as it declares.

Runs inside the caller's transaction: closing an account is all or nothing.
"""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.personal_data import Erasure, Registry


async def erase_person(
    session: AsyncSession,
    registry: Registry,
    person: uuid.UUID,
    *,
    now: datetime.datetime,
    everything: bool = False,
) -> dict[str, int]:
    """Rows affected per holding (dependents first, the account row last); ``now`` is
    what holdings that treat the future and the past apart go by. ``everything``: the
    rows *about* the person go even where the registry keeps them anonymized (their
    appointments, say), for a deletion rather than an anonymization."""
    affected: dict[str, int] = {}
    for holding in registry.erasure_order():
        model = holding.model
        if holding.before_erasure is not None:
            await holding.before_erasure(session, person, now)
        if holding.erasure is Erasure.DELETE and holding.about is None:
            result = await session.execute(
                delete(model).where(holding.belongs_to(person)).execution_options(synchronize_session=False)
            )
            affected[holding.key] = result.rowcount or 0
            continue
        count = 0
        if holding.about is not None and (holding.erasure is Erasure.DELETE or everything):
            result = await session.execute(
                delete(model)
                .where(getattr(model, holding.about) == person)
                .execution_options(synchronize_session=False)
            )
            count += result.rowcount or 0
        for column in holding.owners:
            result = await session.execute(
                update(model)
                .where(getattr(model, column) == person)
                .values({column: None, **dict.fromkeys(holding.blanked)})
                .execution_options(synchronize_session=False)
            )
            count += result.rowcount or 0
        affected[holding.key] = count
    return affected
