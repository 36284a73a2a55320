"""Alembic environment: the schema is the models' metadata, applied only through revisions.

Run through ``smartscheduling db …``, which hands this script an open connection.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import make_url
from sqlalchemy.engine import Connection

import smartscheduling.models  # noqa: F401  (registers every table on the metadata)
from smartscheduling.config import get_settings
from smartscheduling.db import create_engine, metadata, migration_options

config = context.config


def _configure(dialect: str, **kwargs: object) -> None:
    context.configure(target_metadata=metadata, **migration_options(dialect), **kwargs)


def _run(connection: Connection) -> None:
    _configure(connection.dialect.name, connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(get_settings())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    url = get_settings().database_url
    _configure(make_url(url).get_backend_name(), url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
