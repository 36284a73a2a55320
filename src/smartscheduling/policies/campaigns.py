"""Telling every user about a significant policy change, exactly once each.

Publishing a significant version creates a :class:`PolicyCampaign`. The worker then
writes its e-mails to the outbox one batch of users at a time (:meth:`CampaignService.advance`)
and delivers them like any other mail, with the outbox's retries and back-off.

* **Bounded memory, any number of users**: a batch reads ``batch_size`` users in id
  order after the campaign's ``cursor``, and the message is rendered once per batch.
* **Resumable**: a batch's rows and the cursor move are one transaction. A worker that
  dies mid-batch leaves the cursor where it was, and the next worker writes that batch.
* **Exactly once**: each row's ``dedupe_key`` is ``policy:<version id>:<user id>`` under
  a unique constraint, and rows are inserted with ``ON CONFLICT DO NOTHING``; the cursor
  moves only if nobody moved it meanwhile, so two workers cannot both count a batch.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from smartscheduling.accounts.models import AccountStatus, User
from smartscheduling.db import upsert_insert, utcnow
from smartscheduling.mail.models import OutboxMessage, OutboxStatus
from smartscheduling.mail.outbox import render
from smartscheduling.policies.models import PolicyCampaign, PolicyKind, PolicyVersion

logger = logging.getLogger("smartscheduling.policies")
MAIL_KIND = "policy_changed"
#: Failures listed on the campaign page (the counts cover them all).
LISTED_FAILURES = 50


def dedupe_key(version_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return f"policy:{version_id}:{user_id}"


def mail_context(version: Any, base_url: str) -> dict[str, Any]:
    kind = PolicyKind(version.kind)
    return {
        "label": kind.label,
        "number": version.number,
        "summary": version.summary,
        "effective_on": version.effective_on,
        "policy_url": f"{base_url}{kind.path}",
        "diff_url": f"{base_url}{kind.path}/diff?from={version.number - 1}&to={version.number}",
    }


@dataclass(frozen=True, slots=True)
class Progress:
    total: int
    enqueued: int
    written: bool
    queued: int
    sent: int
    failed: int
    #: Of ``queued``: rows that failed at least once and wait for their next attempt.
    retrying: int

    @property
    def expected(self) -> int:
        """How many e-mails the campaign sends: known exactly once every row is written."""
        return self.enqueued if self.written else max(self.total, self.enqueued)

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def finished(self) -> bool:
        return self.written and self.queued == 0

    @property
    def percent(self) -> int:
        return 100 if self.finished else (100 * self.done // self.expected if self.expected else 0)


@dataclass(frozen=True, slots=True)
class Failure:
    status: OutboxStatus
    reason: str
    attempts: int
    at: datetime.datetime
    #: Only the part after "@": enough to see a refusing provider, not who it was.
    domain: str


class CampaignService:
    """The campaigns' e-mails: written to the outbox a batch at a time, and their progress.
    Spans campaigns, users and the outbox, so a plain class over the session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def advance(self, *, batch_size: int, base_url: str) -> int:
        """One batch of every campaign still being written; how many users were covered.

        One batch per call, not the whole campaign: the worker delivers between calls, so a
        password-reset e-mail never waits behind more than one batch of a large mailing. A
        campaign whose batch fails is logged and tried again on the next call.
        """
        open_ids = (
            await self.session.scalars(
                select(PolicyCampaign.id)
                .where(PolicyCampaign.enqueued_at.is_(None))
                .order_by(PolicyCampaign.created_at)
            )
        ).all()
        await self.session.rollback()  # each batch below is a transaction of its own
        covered = 0
        for campaign_id in open_ids:
            try:
                covered += await self.write_batch(campaign_id, batch_size=batch_size, base_url=base_url)
            except Exception:  # one campaign that cannot be written must not hold up the others
                await self.session.rollback()
                logger.exception("campaign batch failed", extra={"fields": {"campaign": str(campaign_id)}})
        return covered

    async def write_batch(self, campaign_id: uuid.UUID, *, batch_size: int, base_url: str) -> int:
        """Write the next batch of the campaign's e-mails to the outbox, one unit of work;
        how many users it covered."""
        session = self.session
        found = (
            await session.execute(
                select(
                    PolicyCampaign.cursor,
                    PolicyCampaign.enqueued,
                    PolicyCampaign.cutoff,
                    PolicyCampaign.enqueued_at,
                    PolicyVersion.id,
                    PolicyVersion.kind,
                    PolicyVersion.number,
                    PolicyVersion.summary,
                    PolicyVersion.effective_on,
                )
                .join(PolicyVersion, PolicyVersion.id == PolicyCampaign.version_id)
                .where(PolicyCampaign.id == campaign_id)
            )
        ).first()
        if found is None or found.enqueued_at is not None:
            await session.rollback()
            return 0
        users = select(User.id, User.email).where(
            User.status == AccountStatus.ACTIVE,
            User.created_at <= found.cutoff,
            User.email.is_not(None),  # account holders: the policies are theirs to accept
        )
        if found.cursor is not None:
            users = users.where(User.id > found.cursor)
        batch = (await session.execute(users.order_by(User.id).limit(batch_size))).all()
        now = utcnow()
        if batch:
            subject, text, html = render(MAIL_KIND, mail_context(found, base_url))
            common = {
                "kind": MAIL_KIND,
                "subject": subject,
                "body_text": text,
                "body_html": html,
                "campaign_id": campaign_id,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            rows = [
                {
                    **common,
                    "id": uuid7(),
                    "user_id": user_id,
                    "to_address": email,
                    "dedupe_key": dedupe_key(found.id, user_id),
                }
                for user_id, email in batch
            ]
            outbox = OutboxMessage.__table__
            insert = upsert_insert(session.get_bind())(outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
            await session.execute(insert, rows)
        unchanged = PolicyCampaign.cursor.is_(None) if found.cursor is None else PolicyCampaign.cursor == found.cursor
        moved = await session.execute(
            update(PolicyCampaign)
            .where(PolicyCampaign.id == campaign_id, unchanged, PolicyCampaign.enqueued_at.is_(None))
            .values(
                cursor=batch[-1].id if batch else found.cursor,
                enqueued=PolicyCampaign.enqueued + len(batch),
                enqueued_at=now if len(batch) < batch_size else None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]  # another worker wrote this batch first
            await session.rollback()
            return 0
        await session.commit()
        return len(batch)

    async def progress(self, campaign: PolicyCampaign) -> Progress:
        retrying = case((OutboxMessage.last_error.is_not(None), 1), else_=0)
        statement = (
            select(OutboxMessage.status, func.count(), func.sum(retrying))
            .where(OutboxMessage.campaign_id == campaign.id)
            .group_by(OutboxMessage.status)
        )
        counts: dict[OutboxStatus, tuple[int, int]] = {
            OutboxStatus(status): (count, int(errors or 0))
            for status, count, errors in (await self.session.execute(statement)).all()
        }
        pending = counts.get(OutboxStatus.PENDING, (0, 0))
        return Progress(
            total=campaign.total,
            enqueued=campaign.enqueued,
            written=campaign.enqueued_at is not None,
            queued=pending[0],
            sent=counts.get(OutboxStatus.SENT, (0, 0))[0],
            failed=counts.get(OutboxStatus.FAILED, (0, 0))[0],
            retrying=pending[1],
        )

    async def failures(self, campaign_id: uuid.UUID) -> list[Failure]:
        """Messages that failed for good, then those waiting to be retried, most recent first."""
        statement = (
            select(
                OutboxMessage.status,
                OutboxMessage.last_error,
                OutboxMessage.attempts,
                OutboxMessage.updated_at,
                OutboxMessage.to_address,
            )
            .where(
                OutboxMessage.campaign_id == campaign_id,
                OutboxMessage.status != OutboxStatus.SENT,
                OutboxMessage.last_error.is_not(None),
            )
            .order_by(OutboxMessage.status, OutboxMessage.updated_at.desc())
            .limit(LISTED_FAILURES)
        )
        return [
            Failure(OutboxStatus(status), reason or "", attempts, at, (address or "").rpartition("@")[2] or "—")
            for status, reason, attempts, at, address in (await self.session.execute(statement)).all()
        ]
