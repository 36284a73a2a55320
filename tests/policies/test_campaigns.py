"""The e-mail about a significant change: every active user exactly once, in batches,
resumable, retried when the mail server is down; and its progress page."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import AccountStatus, Role
from smartscheduling.audit.service import SYSTEM
from smartscheduling.mail.delivery import SmtpSender, deliver_due
from smartscheduling.mail.models import OutboxMessage, OutboxStatus
from smartscheduling.mail.outbox import enqueue
from smartscheduling.policies.campaigns import CampaignService, dedupe_key, mail_context
from smartscheduling.policies.models import PolicyCampaign, PolicyKind
from smartscheduling.policies.services import PolicyService
from smartscheduling.policies.text import DATA_DIR
from tests.conftest import TEST_SECRET
from tests.helpers import publish, sign_in
from tests.mailbox import Mailbox
from tests.test_pages import visible_text

EDITED = (DATA_DIR / "privacy-v1.txt").read_text().replace("We do not sell", "We never sell")
BASE_URL = "http://testserver.local"


async def users(make_user, count: int) -> list:
    return [await make_user() for _ in range(count)]


async def write_all(engine: AsyncEngine, batch_size: int) -> int:
    """Run the campaign writer until it has nothing more to write; the number of steps."""
    steps = 0
    async with AsyncSession(engine) as session:
        while await CampaignService(session).advance(batch_size=batch_size, base_url=BASE_URL):
            steps += 1
    return steps


async def campaign_rows(engine: AsyncEngine) -> list[OutboxMessage]:
    async with AsyncSession(engine) as session:
        return list((await session.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id.is_not(None)))).all())


async def test_every_active_user_gets_exactly_one_email_in_batches(
    make_user, db_engine: AsyncEngine, deliver, mailbox: Mailbox
) -> None:
    people = await users(make_user, 7)
    suspended = await make_user(status=AccountStatus.SUSPENDED)
    publication = await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True, summary="Never sell.")
    late = await make_user()  # joined after publication: accepted version 2 at sign-up
    assert publication.campaign.total == 7
    assert await write_all(db_engine, batch_size=3) == 3  # 3 + 3 + 1
    assert await write_all(db_engine, batch_size=3) == 0  # finished: nothing is written twice
    report = await deliver()
    assert report.sent == 7
    received = Counter(message["To"] for message in mailbox.messages)
    assert received == Counter(person.email for person in people)
    assert suspended.email not in received
    assert late.email not in received
    message = mailbox.messages[0]
    assert message["Subject"] == "Our privacy policy has changed"
    text = Mailbox.text(message)
    assert "Never sell." in text
    assert f"{BASE_URL}/privacy/diff?from=1&to=2" in text


async def test_the_database_refuses_a_second_email_for_the_same_version_and_user(
    make_user, db_engine: AsyncEngine
) -> None:
    person = await make_user()
    publication = await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await write_all(db_engine, batch_size=10)
    context = mail_context(publication.version, BASE_URL)
    async with AsyncSession(db_engine) as session:
        key = dedupe_key(publication.version.id, person.id)
        enqueue(session, "policy_changed", to=person.email, user_id=person.id, dedupe_key=key, context=context)
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_a_batch_written_twice_sends_nobody_a_second_email(make_user, db_engine: AsyncEngine) -> None:
    """A worker that died after writing a batch but before moving the cursor: the next
    one writes the same batch again, and the unique key absorbs it."""
    await users(make_user, 4)
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await write_all(db_engine, batch_size=2)
    async with db_engine.begin() as connection:
        await connection.execute(update(PolicyCampaign).values(cursor=None, enqueued=0, enqueued_at=None))
    await write_all(db_engine, batch_size=2)
    rows = await campaign_rows(db_engine)
    assert len(rows) == 4
    assert len({row.user_id for row in rows}) == 4


async def test_a_campaign_that_cannot_be_written_does_not_hold_up_the_others(
    make_user, db_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await users(make_user, 3)
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        # A campaign for a version that was never published has no number to link to.
        draft = await PolicyService(session).create_draft(PolicyKind.TERMS, actor=SYSTEM)
        broken = PolicyCampaign(version_id=draft.id, total=3, cutoff=draft.created_at)
        session.add(broken)
        await session.commit()
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    with caplog.at_level(logging.ERROR, logger="smartscheduling.policies"):
        await write_all(db_engine, batch_size=2)
    assert len(await campaign_rows(db_engine)) == 3  # the good campaign is written in full
    assert any(record.fields == {"campaign": str(broken.id)} for record in caplog.records)
    async with AsyncSession(db_engine) as session:
        assert (await session.get_one(PolicyCampaign, broken.id)).enqueued_at is None  # tried again later


async def test_mail_server_down_means_retries_with_back_off_and_nothing_lost(
    make_user, db_engine: AsyncEngine, mailbox: Mailbox, client: AsyncTestClient[Litestar]
) -> None:
    people = await users(make_user, 3)
    publication = await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await write_all(db_engine, batch_size=10)
    mailbox.reply = "451 4.3.0 mail server busy"
    report = await deliver_due(db_engine, SmtpSender(mailbox.url), mail_from="x@smartscheduling.com")
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    rows = await campaign_rows(db_engine)
    assert all(row.status is OutboxStatus.PENDING and row.next_attempt_at > row.updated_at for row in rows)
    assert {row.last_error for row in rows} == {"server answered 451"}
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in(client, officer.email)
    page = visible_text((await client.get(f"/staff/campaigns/{publication.campaign.id}")).text)
    assert "3 of the queued messages could not be delivered yet and will be tried again" in page
    assert "will retryserver answered 451" in page  # state and reason, side by side in the table
    # The back-off ends (time passes), the server is back: each is delivered, once.
    mailbox.reply = None
    async with db_engine.begin() as connection:
        await connection.execute(update(OutboxMessage).values(next_attempt_at=func.now()))
    report = await deliver_due(db_engine, SmtpSender(mailbox.url), mail_from="x@smartscheduling.com")
    assert report.sent == 3
    assert sorted(m["To"] for m in mailbox.messages) == sorted(p.email for p in people)


async def test_progress_page_counts_and_polls_until_finished(
    make_user, db_engine: AsyncEngine, deliver, client: AsyncTestClient[Litestar]
) -> None:
    await users(make_user, 3)
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    publication = await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await sign_in(client, officer.email)
    path = f"/staff/campaigns/{publication.campaign.id}"
    first = (await client.get(path)).text
    assert f'hx-get="{path}/progress" hx-trigger="every 2s"' in first
    assert 'id="count-total">4<' in first  # three clients and the officer
    await write_all(db_engine, batch_size=10)
    partial = (await client.get(f"{path}/progress", headers={"hx-request": "true"})).text
    assert partial.startswith('<div id="campaign-progress"')
    assert "campaign-announce" not in partial  # announced only at the end
    assert 'id="count-queued">4<' in partial
    await deliver()
    done = (await client.get(f"{path}/progress", headers={"hx-request": "true"})).text
    assert 'id="count-sent">4<' in done
    assert "hx-trigger" not in done  # finished: the page stops polling
    assert "Finished: 4 sent." in visible_text(done)
    assert '<span id="campaign-announce" hx-swap-oob="innerHTML">The e-mail is finished: 4 sent.</span>' in done
    assert (await client.get(f"{path}/progress", follow_redirects=False)).headers["location"] == path
    async with AsyncSession(db_engine) as session:
        campaign = await session.get(PolicyCampaign, publication.campaign.id)
        assert campaign is not None
        assert (await CampaignService(session).progress(campaign)).finished


# --- a real worker process, killed mid-campaign and started again ---------------------------


async def start_worker(db_url: str, tmp_path: Path, mailbox: Mailbox, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": db_url,
        "SECRET_KEY": TEST_SECRET,
        "VAR_DIR": str(tmp_path / "var"),
        "SMTP_URL": mailbox.url,
        "BASE_URL": BASE_URL,
        "CAMPAIGN_BATCH_SIZE": "20",
        # A dead worker's claimed rows are taken over when their lease ends: keep it short here.
        "OUTBOX_LEASE_SECONDS": "2",
        "LOG_LEVEL": "INFO",
    }
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartscheduling.cli", "worker", env=env, stdout=output, stderr=output
        )


async def test_a_worker_killed_mid_campaign_and_restarted_emails_everyone_exactly_once(
    make_user, db_engine: AsyncEngine, db_url: str, tmp_path: Path, mailbox: Mailbox
) -> None:
    people = await users(make_user, 50)
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    log = tmp_path / "worker.log"
    mailbox.hold_after = 27  # mid-way through the second batch of 20
    worker = await start_worker(db_url, tmp_path, mailbox, log)
    try:
        async with asyncio.timeout(60):
            await mailbox.holding.wait()  # the worker waits for the server's answer to message 28 …
        worker.send_signal(signal.SIGKILL)  # … and dies there, without a chance to clean up
        await worker.wait()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert worker.returncode == -signal.SIGKILL
    mailbox.hold_after = None
    mailbox.release.set()  # the dead worker's last message is refused, never counted
    assert len(mailbox.messages) == 27
    assert len(await campaign_rows(db_engine)) < 50, "the crash should come before every e-mail was written"

    restarted = await start_worker(db_url, tmp_path, mailbox, log)
    try:
        async with asyncio.timeout(60):
            await mailbox.wait_for(50)
    finally:
        restarted.send_signal(signal.SIGTERM)  # a clean stop: it records what it sent, then exits
        await restarted.wait()
    received = Counter(message["To"] for message in mailbox.messages)
    assert received == Counter(person.email for person in people), log.read_text()
    rows = await campaign_rows(db_engine)
    assert len(rows) == 50
    assert {row.status for row in rows} == {OutboxStatus.SENT}
