"""A significant-change e-mail to N users (default 100,000) on PostgreSQL, delivered by a
real ``smartscheduling worker`` process over SMTP to a local sink.

    uv run python -m bench.campaign [--users 100000] [--batch 500]

Reports the total time (publication to the last message accepted), messages per second,
the worker's peak memory (VmHWM) and that every user received exactly one message.
The bench database (``BENCH_DATABASE_URL``) is emptied of users and mail first.

The floor beside it (``--floor`` messages, default 20,000): the same message, built by
the worker's own ``build_message``, sent by a bare aiosmtplib client process over one
connection to the same sink, with no database at all: the most a sender of one message
per SMTP transaction reaches here.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from uuid_utils.compat import uuid7

from bench.common import DATABASE_URL, Server, ensure_database, production_env
from smartscheduling.accounts.models import User
from smartscheduling.audit.service import SYSTEM
from smartscheduling.db import utcnow
from smartscheduling.mail.delivery import Claimed, build_message
from smartscheduling.mail.models import OutboxMessage
from smartscheduling.mail.outbox import render
from smartscheduling.policies.campaigns import MAIL_KIND
from smartscheduling.policies.models import PolicyCampaign, PolicyKind, PolicyVersion
from smartscheduling.policies.services import PolicyService, revision
from smartscheduling.policies.text import DATA_DIR


class Sink:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.first_at = 0.0
        self.last_at = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        del server, session
        for recipient in envelope.rcpt_tos:
            self.received[recipient] += 1
        self.last_at = time.monotonic()
        self.first_at = self.first_at or self.last_at
        return "250 OK"


async def prepare(users: int) -> None:
    engine = create_async_engine(DATABASE_URL)
    async with engine.begin() as connection:
        await connection.execute(delete(OutboxMessage))
        await connection.execute(delete(PolicyCampaign))
        await connection.execute(
            delete(PolicyVersion).where(PolicyVersion.number.is_(None) | (PolicyVersion.number > 1))
        )
        await connection.execute(text("DELETE FROM policy_acknowledgement"))
        await connection.execute(text("DELETE FROM audit_event"))
        await connection.execute(text("DELETE FROM consent_record"))
        await connection.execute(delete(User))
        now = utcnow()
        for start in range(0, users, 10_000):
            rows = [
                {"id": uuid7(), "email": f"user{n}@bench.example", "name": f"User {n}", "password_hash": "x",
                 "role": "client", "status": "active", "session_epoch": 0, "profile_version": 1,
                 "notify_reminders_email": True, "notify_reminders_sms": False, "notify_news": False,
                 "created_at": now, "updated_at": now}
                for n in range(start, min(start + 10_000, users))
            ]  # fmt: skip
            await connection.execute(insert(User), rows)
    await engine.dispose()


async def publish_significant() -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = create_async_engine(DATABASE_URL)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        service = PolicyService(session)
        draft = await service.create_draft(PolicyKind.PRIVACY, actor=SYSTEM)
        body = (DATA_DIR / "privacy-v1.txt").read_text().replace("We do not sell", "We never sell")
        saved = await service.save_draft(
            draft.id, text=body, summary="We never sell your data.", significant=True,
            effective_on=utcnow().date(), actor=SYSTEM,
        )  # fmt: skip
        await service.publish(draft.id, previewed=revision(saved), actor=SYSTEM)
    await engine.dispose()


async def run(users: int, batch: int, floor_messages: int) -> None:
    ensure_database()
    print(f"preparing {users:,} users …")
    await prepare(users)
    sink = Sink()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(sink, hostname="sink.test"), host="127.0.0.1", port=0)
    port = smtp.sockets[0].getsockname()[1]
    env = production_env(SMTP_URL=f"smtp://127.0.0.1:{port}", CAMPAIGN_BATCH_SIZE=str(batch), LOG_LEVEL="WARNING")
    log = Path("/tmp/bench-campaign-worker.log")  # noqa: S108 (a bench's scratch file)
    with log.open("wb") as output:  # noqa: ASYNC230 (once, before anything is measured)
        worker = subprocess.Popen(  # noqa: ASYNC220 (a child that outlives this coroutine's awaits)
            [sys.executable, "-m", "smartscheduling.cli", "worker"], env=env, stdout=output, stderr=output
        )
    probe = Server(url="", pid=worker.pid)
    try:
        started = time.monotonic()
        await publish_significant()
        peak = 0
        while sum(sink.received.values()) < users:
            await asyncio.sleep(0.5)
            peak = max(peak, probe.memory_kib("VmHWM"))
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped: see {log}")
        elapsed = sink.last_at - started
        peak = max(peak, probe.memory_kib("VmHWM"))
    finally:
        worker.terminate()
        worker.wait()
        smtp.close()
    duplicates = sum(1 for count in sink.received.values() if count > 1)
    floor = await smtp_floor(min(users, floor_messages))
    print(f"users: {users:,}, batch: {batch}")
    print(f"total time: {elapsed:.1f} s, {users / elapsed:,.0f} messages/s")
    print(f"worker peak memory (VmHWM): {peak / 1024:.1f} MiB")
    print(f"recipients: {len(sink.received):,}, with more than one message: {duplicates}")
    print(f"floor, a bare aiosmtplib client to the same sink (no database): {floor:,.0f} messages/s")


async def smtp_floor(messages: int) -> float:
    """Messages per second from a bare aiosmtplib client process to the same kind of sink."""
    sink = Sink()
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(sink, hostname="sink.test"), host="127.0.0.1", port=0)
    port = smtp.sockets[0].getsockname()[1]
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.campaign", "--floor-client", str(port), "--users", str(messages)
    )
    try:
        if await client.wait():
            raise SystemExit("the floor client failed")
    finally:
        smtp.close()
    return (messages - 1) / (sink.last_at - sink.first_at)  # from the first message to the last


async def floor_client(port: int, messages: int) -> None:
    """The floor's sender: the campaign's message, over one connection, nothing else."""
    context = {
        "label": "Privacy policy", "number": 2, "summary": "We never sell your data.",
        "effective_on": utcnow().date(), "policy_url": "http://bench/privacy", "diff_url": "http://bench/privacy/diff",
    }  # fmt: skip
    subject, body_text, body_html = render(MAIL_KIND, context)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
        for n in range(messages):
            row = Claimed(uuid7(), f"u{n}@x.example", subject, body_text, body_html, attempts=1)
            await client.send_message(build_message(row, "bench@smartscheduling.com"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--floor", type=int, default=20_000, help="messages the SMTP-only floor sends")
    parser.add_argument("--floor-client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.floor_client:
        asyncio.run(floor_client(arguments.floor_client, arguments.users))
    else:
        asyncio.run(run(arguments.users, arguments.batch, arguments.floor))


if __name__ == "__main__":
    main()
