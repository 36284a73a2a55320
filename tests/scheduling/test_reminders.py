"""Reminders: once per appointment time, the business's reminder_hours before it, across
worker restarts and concurrent workers; never for a cancelled appointment or a client
who switched them off; again after a move."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.audit.service import Actor
from smartscheduling.config import Settings
from smartscheduling.db import create_engine
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.scheduling.booking import BookingService
from smartscheduling.scheduling.models import THE_BUSINESS, Business
from smartscheduling.scheduling.reminders import send_reminders
from smartscheduling.worker import run_worker
from tests.conftest import make_settings
from tests.mailbox import Mailbox
from tests.scheduling.test_booking import MONDAY, at, book, salon

SUNDAY = MONDAY - datetime.timedelta(days=1)


async def reminders(engine: AsyncEngine) -> list[OutboxMessage]:
    async with AsyncSession(engine) as session:
        found = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "appointment_reminder").order_by(OutboxMessage.created_at)
        )
        return list(found.all())


async def test_a_reminder_is_sent_once_per_appointment_even_across_a_restart(
    settings: Settings, db_engine: AsyncEngine, make_user, deliver, mailbox: Mailbox
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user(name="Carla Client")
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    assert await send_reminders(db_engine, now=at(SUNDAY - datetime.timedelta(days=1), 9)) == 0  # 49 hours before
    assert await send_reminders(db_engine, now=at(SUNDAY, 11)) == 1  # 23 hours before
    restarted = create_engine(settings)  # a new worker process knows only what the database holds
    try:
        assert await send_reminders(restarted, now=at(SUNDAY, 12)) == 0
        assert await send_reminders(restarted, now=at(MONDAY, 9, 59)) == 0
    finally:
        await restarted.dispose()
    [row] = await reminders(db_engine)
    assert (row.user_id, row.dedupe_key) == (carla.id, f"reminder:{appointment.id}:{at(MONDAY, 10).isoformat()}")
    await deliver()
    [message] = [m for m in mailbox.to(carla.email) if m["Subject"].startswith("Reminder")]
    assert message["Subject"] == "Reminder: Haircut on Monday 7 December at 10:00"
    assert "Hello Carla Client" in Mailbox.text(message)


async def test_workers_racing_for_one_reminder_queue_it_once(
    settings: Settings, db_engine: AsyncEngine, make_user
) -> None:
    await salon(db_engine, make_user)
    for hour in (9, 10, 11):
        await book(db_engine, await make_user(), at(MONDAY, hour))
    engines = [create_engine(settings) for _ in range(4)]
    try:
        counts = await asyncio.gather(*(send_reminders(engine, now=at(SUNDAY, 12)) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(counts) == 3
    assert len(await reminders(db_engine)) == 3


async def test_no_reminder_for_a_cancelled_appointment_or_a_client_who_said_no(
    db_engine: AsyncEngine, make_user
) -> None:
    await salon(db_engine, make_user)
    cancelled, quiet = await make_user(), await make_user(notify_reminders_email=False)
    appointment = await book(db_engine, cancelled, at(MONDAY, 10))
    await book(db_engine, quiet, at(MONDAY, 14))
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        service = BookingService(session, domain="testserver.local")
        view = await service.appointment_of(cancelled.id, appointment.id)
        assert view is not None
        business = await session.get_one(Business, THE_BUSINESS)
        actor = Actor(cancelled.id, "127.0.0.0/24")
        await service.cancel(business, view, cancelled, version=1, now=at(SUNDAY, 9), actor=actor)
    assert await send_reminders(db_engine, now=at(SUNDAY, 15)) == 0
    assert await reminders(db_engine) == []


async def test_a_moved_appointment_is_reminded_again_for_its_new_time(db_engine: AsyncEngine, make_user) -> None:
    await salon(db_engine, make_user)
    async with AsyncSession(db_engine) as session:
        (await session.get_one(Business, THE_BUSINESS)).reminder_hours = 48
        await session.commit()
    carla = await make_user()
    appointment = await book(db_engine, carla, at(MONDAY, 10))
    saturday = at(SUNDAY - datetime.timedelta(days=1), 12)
    assert await send_reminders(db_engine, now=saturday) == 1
    tuesday = MONDAY + datetime.timedelta(days=1)
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        service = BookingService(session, domain="testserver.local")
        view = await service.appointment_of(carla.id, appointment.id)
        assert view is not None
        business = await session.get_one(Business, THE_BUSINESS)
        await service.reschedule(
            business, view, carla, at(tuesday, 10),
            version=view.appointment.version, now=saturday, actor=Actor(carla.id, "127.0.0.0/24"),
        )  # fmt: skip
    assert await send_reminders(db_engine, now=saturday) == 0  # Tuesday is more than 48 hours away
    assert await send_reminders(db_engine, now=at(MONDAY, 11)) == 1
    assert [row.dedupe_key for row in await reminders(db_engine)] == [
        f"reminder:{appointment.id}:{at(MONDAY, 10).isoformat()}",
        f"reminder:{appointment.id}:{at(tuesday, 10).isoformat()}",
    ]


async def test_the_worker_sends_reminders_by_the_clock_it_is_given(
    db_url: str, tmp_path: Path, db_engine: AsyncEngine, make_user, mailbox: Mailbox
) -> None:
    await salon(db_engine, make_user)
    carla = await make_user()
    await book(db_engine, carla, at(MONDAY, 10))
    stop = asyncio.Event()
    settings = make_settings(db_url, tmp_path, smtp_url=mailbox.url)
    worker = asyncio.create_task(run_worker(settings, stop, poll_seconds=0.1, clock=lambda: at(SUNDAY, 11)))
    try:
        delivered = await asyncio.wait_for(mailbox.wait_for(2), 60)  # the booking's confirmation, the reminder
    finally:
        stop.set()
        await worker
    assert sorted(m["Subject"] for m in delivered) == [
        "Booked: Haircut on Monday 7 December at 10:00",
        "Reminder: Haircut on Monday 7 December at 10:00",
    ]
    assert {m["To"] for m in delivered} == {carla.email}
