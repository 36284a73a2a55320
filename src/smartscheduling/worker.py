"""The worker process (``smartscheduling worker``, the Procfile's ``worker``): writes
policy-change mailings to the outbox a batch at a time, queues appointment reminders,
delivers the outbox and does the housekeeping. In development ``run`` embeds it in the web process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import AccountToken
from smartscheduling.clock import Clock, system_clock
from smartscheduling.config import Settings
from smartscheduling.db import create_engine, utcnow
from smartscheduling.mail.delivery import deliver_due, sender_for
from smartscheduling.policies.campaigns import CampaignService
from smartscheduling.scheduling.reminders import send_reminders
from smartscheduling.security.models import StoreItem, ThrottleCounter

logger = logging.getLogger("smartscheduling.worker")
PURGE_EVERY_SECONDS = 3600
USED_TOKEN_RETENTION = timedelta(days=1)


async def purge_expired(engine: AsyncEngine) -> None:
    """Expired sessions, throttle windows and link tokens are deleted, not kept."""
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(delete(StoreItem).where(StoreItem.expires_at < now))
        await connection.execute(delete(ThrottleCounter).where(ThrottleCounter.expires_at < now))
        await connection.execute(delete(AccountToken).where(AccountToken.expires_at < now - USED_TOKEN_RETENTION))


async def _step(name: str, work: Awaitable[int]) -> int:
    """One step of a pass; a failure is logged and leaves the other steps running (a
    mailing that cannot be written must not stop password-reset e-mails)."""
    try:
        return await work
    except Exception:
        logger.exception("worker step failed; trying again next pass", extra={"fields": {"step": name}})
        return 0


async def run_worker(
    settings: Settings, stop: asyncio.Event, *, poll_seconds: float = 2.0, clock: Clock = system_clock
) -> None:
    """Work until ``stop`` is set; survives a database or mail server outage. Once it is
    set, the worker finishes the message (or the mailing batch) in hand and stops: what
    it had claimed but not sent is released for the next worker. ``clock``: what the
    reminders go by."""
    engine = create_engine(settings)
    sender = sender_for(settings)
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    next_purge = 0.0

    async def deliver() -> int:
        return (await deliver_due(engine, sender, mail_from=settings.mail_from, lease=lease, stop=stop)).handled

    async def campaigns() -> int:
        async with AsyncSession(engine) as session:
            return await CampaignService(session).advance(
                batch_size=settings.campaign_batch_size, base_url=settings.base_url
            )

    async def purge() -> int:
        nonlocal next_purge
        if time.monotonic() >= next_purge:
            await purge_expired(engine)
            next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        return 0

    logger.info("worker started", extra={"fields": {"transport": type(sender).__name__}})
    try:
        while not stop.is_set():
            handled = await _step("campaigns", campaigns())
            handled += await _step("reminders", send_reminders(engine, now=clock()))
            if stop.is_set():
                break
            handled += await _step("delivery", deliver())
            await _step("purge", purge())
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
    finally:
        await engine.dispose()
        logger.info("worker stopped")
