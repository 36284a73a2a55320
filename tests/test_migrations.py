"""Migrations are the schema: upgrade, agree with the models, downgrade — on both databases."""

from __future__ import annotations

import datetime
import sys
import uuid
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import smartscheduling.models  # noqa: F401  (every table on the metadata)
from smartscheduling.db import create_engine, metadata, migration_options, run_alembic
from tests.conftest import Databases, make_settings
from tests.helpers import run_command


def _schema_diff(connection: Connection) -> list[object]:
    return compare_metadata(
        MigrationContext.configure(connection, opts=migration_options(connection.dialect.name)), metadata
    )


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_agrees_with_models_then_downgrades_to_nothing(
    backend: str, databases: Databases, tmp_path: Path
) -> None:
    engine = create_engine(make_settings(await databases.create(backend), tmp_path))
    try:
        await run_alembic(engine, command.upgrade, "head")
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_diff) == []
            assert await connection.run_sync(_tables) == {*metadata.tables, "alembic_version"}

        await run_alembic(engine, command.downgrade, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {"alembic_version"}

        await run_alembic(engine, command.upgrade, "head")  # and back up again, cleanly
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_diff) == []
    finally:
        await engine.dispose()


async def test_cli_db_upgrade_creates_the_schema_on_an_empty_database(
    backend: str, databases: Databases, tmp_path: Path
) -> None:
    url = await databases.create(backend)
    cli = str(Path(sys.executable).parent / "smartscheduling")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "VAR_DIR": str(tmp_path)}
    upgrade = await run_command(cli, "db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    check = await run_command(cli, "db", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert "Models and migrations agree." in check.stdout

    engine = create_engine(make_settings(url, tmp_path))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {*metadata.tables, "alembic_version"}
    finally:
        await engine.dispose()


async def test_profile_columns_reach_existing_accounts_with_safe_defaults(
    backend: str, databases: Databases, tmp_path: Path
) -> None:
    """Accounts made before the Profile revision come through it: version 1, e-mail
    reminders on, nothing else sent, the new contact details empty."""
    engine = create_engine(make_settings(await databases.create(backend), tmp_path))
    try:
        await run_alembic(engine, command.upgrade, "e520b08ffb44")  # accounts, before the profile
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO user_account (id, email, name, password_hash, role, status, country,"
                    " session_epoch, created_at, updated_at)"
                    " VALUES (:id, 'old@example.com', 'Old Timer', 'x', 'client', 'active', 'US', 0, :now, :now)"
                ),
                {
                    "id": uuid.uuid4().hex if backend == "sqlite" else uuid.uuid4(),
                    "now": datetime.datetime.now(datetime.UTC),
                },
            )
        await run_alembic(engine, command.upgrade, "head")
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT profile_version, notify_reminders_email, notify_reminders_sms, notify_news, phone,"
                        " postal_address, time_zone, language FROM user_account"
                    )
                )
            ).one()
        assert tuple(row) == (1, True, False, False, None, None, None, None)
    finally:
        await engine.dispose()


async def test_models_alone_registers_every_table_the_migrations_create(db_engine) -> None:
    """Alembic's autogenerate starts from ``smartscheduling.models`` alone: a table it does
    not register would be dropped by the next generated revision."""
    registered = await run_command(
        sys.executable, "-c",
        "import smartscheduling.models; from smartscheduling.db import metadata; print(*sorted(metadata.tables))",
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    async with db_engine.connect() as connection:
        migrated = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(registered.stdout.split()) == migrated - {"alembic_version"}


async def test_accounts_made_before_the_directory_can_be_found_by_staff(
    backend: str, databases: Databases, tmp_path: Path
) -> None:
    """The client directory's revision fills in the search text of the accounts already
    there; on PostgreSQL it comes with its trigram index."""
    engine = create_engine(make_settings(await databases.create(backend), tmp_path))
    try:
        await run_alembic(engine, command.upgrade, "96676cd38615")  # before the client directory
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO user_account (id, email, name, password_hash, role, status, session_epoch,"
                    " phone, profile_version, notify_reminders_email, notify_reminders_sms, notify_news,"
                    " created_at, updated_at) VALUES (:id, 'zoe@example.com', 'Zoë Müller', 'x', 'client',"
                    " 'active', 0, '+4915112345678', 1, true, false, false, :now, :now)"
                ),
                {
                    "id": uuid.uuid4().hex if backend == "sqlite" else uuid.uuid4(),
                    "now": datetime.datetime.now(datetime.UTC),
                },
            )
        await run_alembic(engine, command.upgrade, "head")
        async with engine.connect() as connection:
            found = (await connection.execute(text("SELECT search_text, contact_email FROM user_account"))).one()
            indexes = await connection.run_sync(
                lambda sync: {index["name"] for index in inspect(sync).get_indexes("user_account")}
            )
        assert tuple(found) == ("zoe muller 4915112345678 zoe@example.com", None)
        assert ("ix_user_account_search_text_trgm" in indexes) is (backend == "postgresql")
    finally:
        await engine.dispose()


async def test_rebuilding_the_accounts_table_keeps_every_row_that_points_at_it(
    backend: str, databases: Databases, tmp_path: Path
) -> None:
    """SQLite alters ``user_account`` by rebuilding it; with foreign keys on, dropping the
    old table would delete or unlink every row pointing at it (tokens, hours, appointments).
    Migrations run with them off, and checked after."""
    engine = create_engine(make_settings(await databases.create(backend), tmp_path))
    try:
        await run_alembic(engine, command.upgrade, "96676cd38615")  # before user_account is rebuilt
        person, offering = uuid.uuid4(), uuid.uuid4()
        key = (lambda value: value.hex) if backend == "sqlite" else (lambda value: value)
        now = datetime.datetime.now(datetime.UTC)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO user_account (id, email, name, password_hash, role, status, session_epoch,"
                    " profile_version, notify_reminders_email, notify_reminders_sms, notify_news, created_at,"
                    " updated_at) VALUES (:id, 'kept@example.com', 'Kept', 'x', 'staff', 'active', 0, 1, true,"
                    " false, false, :now, :now)"
                ),
                {"id": key(person), "now": now},
            )
            await connection.execute(
                text(
                    "INSERT INTO working_hours (user_id, weekday, start_minute, end_minute) VALUES (:id, 0, 540, 1020)"
                ),
                {"id": key(person)},
            )
            await connection.execute(
                text(
                    "INSERT INTO offering (id, name, description, duration_minutes, price_cents, buffer_before_minutes,"
                    " buffer_after_minutes, version, created_at, updated_at)"
                    " VALUES (:id, 'Cut', '', 30, 1000, 0, 0, 1, :now, :now)"
                ),
                {"id": key(offering), "now": now},
            )
            await connection.execute(
                text(
                    "INSERT INTO appointment (id, client_id, staff_id, offering_id, starts_at, ends_at, occupied_from,"
                    " occupied_until, price_cents, currency, status, sequence, history, version, created_at,"
                    " updated_at) VALUES (:id, :person, :person, :offering, :now, :later, :now, :later, 1000, 'EUR',"
                    " 'booked', 0, '[]', 1, :now, :now)"
                ),
                {
                    "id": key(uuid.uuid4()),
                    "person": key(person),
                    "offering": key(offering),
                    "now": now,
                    "later": now + datetime.timedelta(minutes=30),
                },
            )
        await run_alembic(engine, command.upgrade, "head")
        async with engine.connect() as connection:
            hours = (await connection.execute(text("SELECT count(*) FROM working_hours"))).scalar_one()
            linked = (
                await connection.execute(text("SELECT count(*) FROM appointment WHERE client_id IS NOT NULL"))
            ).scalar_one()
        assert (hours, linked) == (1, 1)
    finally:
        await engine.dispose()
