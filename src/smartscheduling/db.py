"""Database: engine, the advanced-alchemy plugin config, model bases and migrations.

Model conventions: UUIDv7 primary keys (time-ordered, so indexes stay compact),
``created_at``/``updated_at`` stored in UTC (``DateTimeUTC``), and the naming
convention of advanced-alchemy's registry for every constraint and index, so that
migrations name them the same on PostgreSQL and SQLite.

The schema comes only from Alembic revisions in ``migrations/``.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase, UUIDv7Base, orm_registry
from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig
from advanced_alchemy.types import GUID
from alembic import command
from alembic.config import Config as AlembicConfig
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import JSON, Enum, event, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session

from smartscheduling.config import MIGRATIONS_DIR, Settings

__all__ = (
    "WRITES",
    "AuditedModel",
    "JsonDocument",
    "Model",
    "NaturalKeyModel",
    "alembic_config",
    "create_db_config",
    "create_engine",
    "is_sqlite",
    "metadata",
    "migration_options",
    "run_alembic",
    "text_enum",
    "upsert_insert",
    "utcnow",
)

#: Tables with a UUIDv7 ``id``, ``created_at`` and ``updated_at``.
AuditedModel = UUIDv7AuditBase
#: Tables with a UUIDv7 ``id`` only (e.g. append-only records that keep their own time).
Model = UUIDv7Base
#: Tables that declare their own primary key.
NaturalKeyModel = DefaultBase
metadata = orm_registry.metadata
#: JSON, stored as JSONB on PostgreSQL. (advanced-alchemy's JsonB type fails to attach to a
#: table under SQLAlchemy 2.1: it calls the removed ``util.portable_instancemethod``.)
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


def text_enum(enum_type: type[enum.Enum], name: str, length: int = 32) -> Enum:
    """An enum stored as its values in text with a CHECK constraint: portable across
    PostgreSQL and SQLite, and a new member needs no ``ALTER TYPE``."""
    return Enum(enum_type, name=name, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


def upsert_insert(bind: AsyncEngine | Engine | Connection) -> Callable[..., Any]:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_update`` on both databases."""
    return pg_insert if bind.dialect.name == "postgresql" else sqlite_insert


def utcnow() -> datetime.datetime:
    """Time is stored in UTC, always timezone-aware."""
    return datetime.datetime.now(datetime.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def create_engine(settings: Settings, **overrides: Any) -> AsyncEngine:
    """One engine per process role (web app, worker, CLI)."""
    url = make_url(settings.database_url)
    options: dict[str, Any] = {
        "echo": settings.database_echo,
        # Exception messages and logs must not carry bound values (personal data).
        "hide_parameters": not settings.database_echo,
    }
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        options |= overrides
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options |= {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_pool_size,
        # No ping on every checkout (a round trip per request): connections are recycled
        # before servers or proxies drop them idle, and one found dead is discarded with
        # the whole pool (SQLAlchemy invalidates it on a disconnect error; the request
        # answers 503 and the next ones get fresh connections).
        "pool_pre_ping": False,
        "pool_recycle": 300,
        "connect_args": {"timeout": 5, "server_settings": {"application_name": "smartscheduling"}},
    }
    options |= overrides
    return create_async_engine(url, **options)


#: A route's ``opt``: this GET writes (an audit event of what staff read, say), so it runs
#: in a transaction like every POST. Without it a GET reads outside one (see below).
WRITES = {"writes": True}
READS_ONLY = "reads_only"


class ReadOnlyRequestError(RuntimeError):
    """A GET without ``opt=WRITES`` tried to write: it reads on an autocommit connection."""

    def __init__(self) -> None:
        super().__init__("this GET route writes: declare opt=WRITES on it, so it runs in a transaction")


def reads_only(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return scope["method"] in {"GET", "HEAD"} and not (handler is not None and handler.opt.get("writes"))


@dataclass
class RequestDatabaseConfig(SQLAlchemyAsyncConfig):
    """advanced-alchemy's config, with one difference: the session of a GET or HEAD (unless
    its route says ``opt=WRITES``) reads on an ``AUTOCOMMIT`` connection of the same pool,
    so a page costs its queries and no ``BEGIN``/``ROLLBACK`` round trips (each query sees
    the data as it is when it runs, as in Django). Such a session refuses to write
    (:class:`ReadOnlyRequestError`): a GET that must write says so, and gets a transaction."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.reading_engine = self.get_engine().execution_options(isolation_level="AUTOCOMMIT")

    def provide_session(self, state: State, scope: Scope) -> AsyncSession:
        session = super().provide_session(state, scope)
        if READS_ONLY not in session.info:  # new in this request
            session.info[READS_ONLY] = reads_only(scope)
            if session.info[READS_ONLY]:
                session.bind = self.reading_engine
                session.sync_session.bind = self.reading_engine.sync_engine
        return session


@event.listens_for(Session, "before_flush")
def _refuse_flush_when_reading(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READS_ONLY) and (session.new or session.deleted or session.dirty):
        raise ReadOnlyRequestError


@event.listens_for(Session, "do_orm_execute")
def _refuse_statements_when_reading(state: ORMExecuteState) -> None:
    if state.session.info.get(READS_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyRequestError


def create_db_config(engine: AsyncEngine) -> RequestDatabaseConfig:
    """The advanced-alchemy plugin config: a request-scoped ``db_session`` dependency.

    The before-send handler only closes the session. Services commit their own unit
    of work, so a failing commit surfaces as an error page instead of being swallowed
    after the response status was already chosen (advanced-alchemy's autocommit
    handler logs commit failures at debug level and answers with success).
    """
    return RequestDatabaseConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        set_default_exception_handler=False,
        create_all=False,
    )


class ReleaseSessionFirst:
    """ASGI middleware, placed just inside the session middleware: the request's database
    session is closed (its connection back in the pool) as the response starts, *before*
    the session middleware writes the session, which on the database store needs a
    connection of its own. So no request ever holds two pooled connections at once, and
    a pool full of requests that must write their session cannot deadlock. (The plugin's
    own before-send handler, which would close it a moment later, is the one called.)"""

    def __init__(self, app: ASGIApp, db_config: SQLAlchemyAsyncConfig) -> None:
        self.app = app
        self.release = db_config.before_send_handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not callable(self.release):
            await self.app(scope, receive, send)
            return
        release = self.release

        async def send_released(message: Message) -> None:
            await release(message, scope)
            await send(message)

        await self.app(scope, receive, send_released)


def _compare_type(context: Any, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any) -> bool | None:
    """Alembic type comparison, minus one false alarm: SQLite reflects advanced-alchemy's
    ``GUID`` (stored as ``BINARY(16)``) as ``NUMERIC(16)``. ``None``: Alembic decides."""
    if context.dialect.name == "sqlite" and isinstance(metadata_type, GUID):
        return str(inspected_type) not in ("NUMERIC(16)", "BINARY(16)")
    return None


def migration_options(dialect: str) -> dict[str, Any]:
    """How migrations are generated and compared on ``dialect`` (env.py and the agreement
    test share them). An index or constraint declared for one database only
    (``.ddl_if(dialect=…)``, e.g. PostgreSQL's trigram index) is compared there only."""

    def include_object(item: Any, _name: Any, _type: Any, reflected: bool, _compare_to: Any) -> bool:
        only = getattr(item, "_ddl_if", None)
        return reflected or only is None or only.dialect in (None, dialect)

    return {
        "render_as_batch": True,  # SQLite cannot ALTER most things in place
        "compare_type": _compare_type,
        "compare_server_default": True,
        "user_module_prefix": None,  # advanced-alchemy types render fully qualified
        "include_object": include_object,
    }


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


async def run_alembic(engine: AsyncEngine, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run an Alembic command (``alembic.command.upgrade`` …) on one connection of ``engine``."""

    def _run(connection: Connection) -> Any:
        return operation(alembic_config(connection), *args, **kwargs)

    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it (copy, drop, rename): with foreign keys
            # on, the drop would fire every ON DELETE pointing at it and empty or unlink the
            # tables that refer to it. Off for the migration (only outside a transaction),
            # then checked: the rebuilt tables must leave no row pointing at nothing.
            await connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            await connection.commit()
        try:
            async with connection.begin():
                result = await connection.run_sync(_run)
                if sqlite and (broken := (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()):
                    msg = f"the migration left rows that point at nothing: {broken[:5]}"
                    raise RuntimeError(msg)
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                await connection.commit()
    return result


upgrade = command.upgrade
downgrade = command.downgrade
