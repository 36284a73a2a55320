"""The outbox: written with the change, delivered over real SMTP, retried, never sent twice,
and emptied of personal data once delivered."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.db import create_engine, utcnow
from smartscheduling.mail.delivery import MAX_ATTEMPTS, FileSender, SmtpSender, claim, deliver_due
from smartscheduling.mail.models import OutboxMessage, OutboxStatus
from smartscheduling.mail.outbox import enqueue
from smartscheduling.worker import run_worker
from tests.conftest import make_settings
from tests.mailbox import Mailbox

FROM = "Smart Scheduling <no-reply@smartscheduling.com>"


async def queue(engine: AsyncEngine, count: int = 1, *, kind: str = "password_changed") -> None:
    async with AsyncSession(engine) as session:
        for number in range(count):
            enqueue(
                session, kind, to=f"person{number}@example.com",
                context={"name": f"Person {number}", "reset_url": "https://smartscheduling.test/password/forgot"},
            )  # fmt: skip
        await session.commit()


async def outbox(engine: AsyncEngine) -> list[OutboxMessage]:
    async with AsyncSession(engine) as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


async def test_a_message_is_delivered_once_and_then_forgotten(
    db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    await queue(db_engine)
    report = await deliver()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    (message,) = mailbox.messages
    assert message["To"] == "person0@example.com"
    assert message["From"] == FROM
    assert message["Subject"] == "Your password was changed"
    assert message["Auto-Submitted"] == "auto-generated"
    (row,) = await outbox(db_engine)
    assert message["Message-ID"] == f"<{row.id}@smartscheduling.com>"
    assert "Hello Person 0," in Mailbox.text(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "<p>Hello Person 0,</p>" in html.get_content()
    assert row.status == OutboxStatus.SENT
    assert row.sent_at is not None
    assert (row.to_address, row.body_text, row.body_html) == (None, None, None)  # nothing personal kept
    assert (await deliver()).sent == 0
    assert len(mailbox.messages) == 1


async def test_an_unreachable_server_means_retry_with_back_off(
    db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    await queue(db_engine, 2)
    report = await deliver_due(db_engine, SmtpSender("smtp://127.0.0.1:1"), mail_from=FROM)
    assert report.retrying == 2
    rows = await outbox(db_engine)
    for row in rows:
        assert row.status == OutboxStatus.PENDING
        assert row.attempts == 1
        assert row.locked_until is None
        assert "cannot connect to the mail server" in row.last_error
        assert timedelta(seconds=25) < row.next_attempt_at - utcnow() < timedelta(seconds=35)
    assert (await deliver()).sent == 0  # not due yet
    async with db_engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    assert (await deliver()).sent == 2
    assert sorted(m["To"] for m in mailbox.messages) == ["person0@example.com", "person1@example.com"]


async def test_back_off_doubles(db_engine: AsyncEngine, deliver, mailbox: Mailbox) -> None:
    await queue(db_engine)
    mailbox.reply = "451 4.3.0 try again later"
    delays = []
    for _ in range(3):
        async with db_engine.begin() as connection:
            await connection.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        assert (await deliver()).retrying == 1
        (row,) = await outbox(db_engine)
        delays.append((row.next_attempt_at - utcnow()).total_seconds())
        assert row.last_error == "server answered 451"
    assert 25 < delays[0] < 35
    assert 50 < delays[1] < 70
    assert 100 < delays[2] < 140


async def test_a_refused_address_is_not_retried(db_engine: AsyncEngine, deliver, mailbox: Mailbox) -> None:
    await queue(db_engine)
    mailbox.reply = "550 5.1.1 no such mailbox"
    report = await deliver()
    assert report.failed == 1
    (row,) = await outbox(db_engine)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error == "server answered 550"
    mailbox.reply = None
    assert (await deliver()).handled == 0


async def test_retries_give_up_after_the_last_attempt(db_engine: AsyncEngine, deliver, mailbox: Mailbox) -> None:
    await queue(db_engine)
    async with db_engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(attempts=MAX_ATTEMPTS - 1))
    mailbox.reply = "451 4.3.0 try again later"
    assert (await deliver()).failed == 1
    (row,) = await outbox(db_engine)
    assert row.status == OutboxStatus.FAILED


async def test_two_workers_never_send_the_same_message(
    db_url: str, db_engine: AsyncEngine, tmp_path: Path, mailbox: Mailbox
) -> None:
    await queue(db_engine, 40)
    engines = [create_engine(make_settings(db_url, tmp_path)) for _ in range(2)]
    try:
        reports = await asyncio.gather(
            *(deliver_due(engine, SmtpSender(mailbox.url), mail_from=FROM, batch_size=5) for engine in engines)
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(r.sent for r in reports) == 40
    recipients = [m["To"] for m in mailbox.messages]
    assert len(recipients) == len(set(recipients)) == 40


async def test_a_crashed_workers_messages_are_taken_over_after_its_lease(
    db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    await queue(db_engine, 3)
    claimed = await claim(db_engine)  # a worker claims the batch, then dies before sending
    assert len(claimed) == 3
    assert (await deliver()).sent == 0  # still held by the dead worker's lease
    async with db_engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert (await deliver()).sent == 3
    assert {r.attempts for r in await outbox(db_engine)} == {2}


async def test_queued_mail_rolls_back_with_its_transaction(db_engine: AsyncEngine) -> None:
    async with AsyncSession(db_engine) as session:
        enqueue(session, "password_changed", to="a@example.com", context={"name": "A", "reset_url": "x"})
        await session.flush()
        await session.rollback()
    assert await outbox(db_engine) == []


async def test_development_writes_messages_to_files(db_engine: AsyncEngine, tmp_path: Path) -> None:
    await queue(db_engine)
    report = await deliver_due(db_engine, FileSender(tmp_path / "mail"), mail_from=FROM)
    assert report.sent == 1
    (eml,) = (tmp_path / "mail").glob("*.eml")
    message: EmailMessage = message_from_bytes(eml.read_bytes(), policy=policy.default)  # type: ignore[assignment]
    assert message["To"] == "person0@example.com"
    assert message["Subject"] == "Your password was changed"


async def test_a_stopped_worker_finishes_the_message_in_hand_and_leaves_the_rest(
    db_url: str, db_engine: AsyncEngine, tmp_path: Path, mailbox: Mailbox
) -> None:
    """SIGTERM sets the worker's stop event: it must not drain the whole due outbox first."""
    await queue(db_engine, 30)
    mailbox.hold_after = 3  # the fourth message stays in hand until we let go
    stop = asyncio.Event()
    settings = make_settings(db_url, tmp_path, smtp_url=mailbox.url, campaign_batch_size=500)
    worker = asyncio.create_task(run_worker(settings, stop))
    async with asyncio.timeout(30):
        await mailbox.holding.wait()
    stop.set()
    mailbox.release.set()  # the server answers the message in hand (451: to be retried)
    async with asyncio.timeout(5):
        await worker
    rows = await outbox(db_engine)
    assert len(mailbox.messages) == 3
    assert sorted(row.status for row in rows).count(OutboxStatus.SENT) == 3
    in_hand = [row for row in rows if row.last_error]
    assert len(in_hand) == 1
    assert in_hand[0].attempts == 1  # its failure is recorded, to be retried
    untouched = [row for row in rows if row.status == OutboxStatus.PENDING and not row.last_error]
    assert len(untouched) == 26
    assert {(row.attempts, row.locked_until) for row in untouched} == {(0, None)}  # free for the next worker
