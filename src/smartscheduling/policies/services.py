"""Policy documents: reading published versions, drafting, publishing, acknowledging.

Every public method of :class:`PolicyService` is one unit of work: it commits, or
nothing changes. A published version is never updated: the only statements that write
``policy_version`` rows are guarded by ``published_at IS NULL``.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import ColumnElement, Select, bindparam, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.countries import UNITED_STATES
from smartscheduling.accounts.models import AccountStatus, User
from smartscheduling.audit.service import Actor, record
from smartscheduling.db import utcnow
from smartscheduling.policies.campaigns import CampaignService, Failure, Progress
from smartscheduling.policies.models import PolicyAcknowledgement, PolicyCampaign, PolicyKind, PolicyVersion
from smartscheduling.policies.text import US_TRANSFER_NOTICE_VERSION
from smartscheduling.refusals import Refusal, RefusedError

logger = logging.getLogger("smartscheduling.policies")
MAX_TEXT_CHARACTERS = 100_000
MAX_SUMMARY_CHARACTERS = 1000
#: The acknowledgement document of the notice that data is stored in the U.S.
US_TRANSFER = "us_transfer"


class DraftInvalidError(RefusedError):
    """The draft cannot be published as it is; ``problems`` maps field → sentence."""


class NotADraftError(RefusedError):
    """The version is published (or gone): it can no longer be edited."""

    kind = Refusal.CONFLICT
    sentence = "This version was published meanwhile: published versions cannot be changed."


class PublishRaceError(RefusedError):
    """Another draft of the same kind was published at the same moment."""

    kind = Refusal.CONFLICT
    sentence = (
        "Another version of this policy was published at the same moment. "
        "Look at the changes against it below, then publish again."
    )


class DraftChangedError(RefusedError):
    """The draft was saved again after the officer previewed it."""

    kind = Refusal.CONFLICT
    sentence = (
        "The draft was saved again after you previewed it (perhaps in another tab or by a colleague). "
        "Check the preview and the changes below, then publish again."
    )


def revision(draft: PolicyVersion) -> str:
    """Which saved state of a draft the officer is looking at (every save changes it)."""
    return draft.updated_at.isoformat()


def is_published() -> ColumnElement[bool]:
    return PolicyVersion.published_at.is_not(None)


@dataclass(frozen=True, slots=True)
class PolicyNotice:
    """A significant change the user has not acknowledged yet."""

    kind: PolicyKind
    number: int
    effective_on: datetime.date | None
    #: The last version they acknowledged (the diff starts there).
    since: int


def _pending_statement() -> Select[tuple[PolicyKind, int | None, datetime.date | None, int]]:
    acknowledged = (
        select(func.coalesce(func.max(PolicyAcknowledgement.version), 0))
        .where(
            PolicyAcknowledgement.user_id == bindparam("user_id"),
            PolicyAcknowledgement.document == PolicyVersion.kind,
        )
        .scalar_subquery()
    )
    return (
        select(PolicyVersion.kind, PolicyVersion.number, PolicyVersion.effective_on, acknowledged)
        .where(
            PolicyVersion.significant.is_(True),
            is_published(),
            PolicyVersion.published_at > bindparam("joined"),
            PolicyVersion.number > acknowledged,
        )
        .order_by(PolicyVersion.kind, PolicyVersion.number.desc())
    )


#: Built once: it runs on every signed-in full page, and building it costs more than running it.
_PENDING = _pending_statement()


#: Set while a request runs whose copy of the versions was checked as it started.
_CHECKED: ContextVar[bool] = ContextVar("policy_versions_checked", default=False)


class LatestVersions:
    """The published versions, for code that runs on every request (the cookie firewall,
    ``/privacy``): the latest number per kind is read from the database at most every
    ``ttl`` seconds per process (the process that publishes forgets its copy at once,
    other processes within ``ttl``), and each published version, immutable, once."""

    #: Versions kept per process (a few per kind in practice; the bound is a safeguard).
    MAX_CACHED = 256

    def __init__(self, engine: AsyncEngine, ttl: float = 5.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._numbers: dict[PolicyKind, int] = {}
        self._significant_at: datetime.datetime | None = None
        self._read_at = -float("inf")
        self._versions: dict[tuple[PolicyKind, int], PolicyVersion] = {}

    def forget(self) -> None:
        self._read_at = -float("inf")

    def checked(self, app: ASGIApp) -> ASGIApp:
        """``app``, with the copy brought up to date as each request starts, before the
        request holds any connection. Reads during the request use the copy as it is: none
        of them waits for a second connection while holding one (a full pool would
        deadlock), and one request sees one set of versions."""

        async def checked_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            await self._refresh()
            token = _CHECKED.set(True)
            try:
                await app(scope, receive, send)
            finally:
                _CHECKED.reset(token)

        return checked_app

    async def _refresh(self) -> None:
        if _CHECKED.get() or time.monotonic() - self._read_at <= self.ttl:
            return
        significant_at = func.max(case((PolicyVersion.significant.is_(True), PolicyVersion.published_at)))
        statement = select(PolicyVersion.kind, func.max(PolicyVersion.number), significant_at).where(is_published())
        try:
            async with self.engine.connect() as connection:
                rows = (await connection.execute(statement.group_by(PolicyVersion.kind))).all()
        except (SQLAlchemyError, OSError):  # keep serving what we knew (liveness must not fail)
            logger.warning("latest policy versions unavailable: database unreachable")
        else:
            self._numbers = {PolicyKind(kind): number for kind, number, _ in rows}
            self._significant_at = max((at for _, _, at in rows if at is not None), default=None)
        self._read_at = time.monotonic()

    async def number(self, kind: PolicyKind) -> int:
        await self._refresh()
        return self._numbers.get(kind, 0)

    async def significant_since(self, moment: datetime.datetime) -> bool:
        """Whether any significant version was published after ``moment``: if not, nobody
        who joined then can have a notice due, and no query needs to ask."""
        await self._refresh()
        return self._significant_at is not None and self._significant_at > moment

    async def published(self, kind: PolicyKind, number: int) -> PolicyVersion | None:
        """Version ``number`` of ``kind`` if published: read once, then served from memory
        (detached from any session; published versions never change)."""
        found = self._versions.get((kind, number))
        if found is None:
            async with AsyncSession(self.engine, expire_on_commit=False) as session:
                statement = select(PolicyVersion).where(PolicyVersion.kind == kind, PolicyVersion.number == number)
                found = await session.scalar(statement.where(is_published()))
            if found is None:
                return None
            if len(self._versions) >= self.MAX_CACHED:
                self._versions.clear()
            self._versions[kind, number] = found
        return found

    async def latest(self, kind: PolicyKind) -> PolicyVersion | None:
        number = await self.number(kind)
        return await self.published(kind, number) if number else None


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """A policy-change mailing as the staff page shows it."""

    campaign: PolicyCampaign
    version: PolicyVersion
    progress: Progress
    failures: list[Failure]


@dataclass(frozen=True, slots=True)
class Publication:
    version: PolicyVersion
    campaign: PolicyCampaign | None
    #: ``True`` when the draft had already been published (a repeated submit).
    already: bool = False


class PolicyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- published versions -----------------------------------------------------------

    async def latest(self, kind: PolicyKind) -> PolicyVersion | None:
        statement = (
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind, is_published())
            .order_by(PolicyVersion.number.desc())
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def latest_number(self, kind: PolicyKind) -> int:
        """The latest published version's number (0 before anything is published)."""
        statement = select(func.max(PolicyVersion.number)).where(PolicyVersion.kind == kind, is_published())
        return await self.session.scalar(statement) or 0

    async def history(self, kind: PolicyKind) -> Sequence[PolicyVersion]:
        statement = select(PolicyVersion).where(PolicyVersion.kind == kind, is_published())
        return (await self.session.scalars(statement.order_by(PolicyVersion.number.desc()))).all()

    async def campaign_for(self, version_id: uuid.UUID) -> PolicyCampaign | None:
        return await self.session.scalar(select(PolicyCampaign).where(PolicyCampaign.version_id == version_id))

    async def campaign(self, campaign_id: uuid.UUID) -> tuple[PolicyCampaign, PolicyVersion] | None:
        statement = select(PolicyCampaign, PolicyVersion).join(PolicyVersion).where(PolicyCampaign.id == campaign_id)
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def campaign_report(self, campaign_id: uuid.UUID) -> CampaignReport | None:
        found = await self.campaign(campaign_id)
        if found is None:
            return None
        campaign, version = found
        mailing = CampaignService(self.session)
        return CampaignReport(campaign, version, await mailing.progress(campaign), await mailing.failures(campaign.id))

    async def campaigns(self) -> Sequence[tuple[PolicyCampaign, PolicyVersion]]:
        statement = select(PolicyCampaign, PolicyVersion).join(PolicyVersion)
        rows = (await self.session.execute(statement.order_by(PolicyCampaign.created_at.desc()))).all()
        return [(row[0], row[1]) for row in rows]

    # --- drafts --------------------------------------------------------------------------

    async def drafts(self) -> Sequence[PolicyVersion]:
        statement = select(PolicyVersion).where(PolicyVersion.published_at.is_(None))
        return (await self.session.scalars(statement.order_by(PolicyVersion.updated_at.desc()))).all()

    async def draft(self, draft_id: uuid.UUID, *, fresh: bool = False) -> PolicyVersion | None:
        """The version with this id, draft or published (callers check ``is_draft``);
        ``fresh``: as the database holds it now, not as this request first read it."""
        return await self.session.get(PolicyVersion, draft_id, populate_existing=fresh)

    async def create_draft(self, kind: PolicyKind, *, actor: Actor) -> PolicyVersion:
        """A new draft that starts as a copy of the latest version."""
        current = await self.latest(kind)
        draft = PolicyVersion(
            kind=kind,
            text=current.text if current else "",
            summary="",
            significant=False,
            effective_on=datetime.datetime.now(datetime.UTC).date(),
            created_by_id=actor.id,
        )
        self.session.add(draft)
        await self.session.flush()
        record(self.session, "policy.draft_created", actor=actor, kind=kind.value, draft=str(draft.id))
        await self.session.commit()
        return draft

    async def save_draft(
        self,
        draft_id: uuid.UUID,
        *,
        text: str,
        summary: str,
        significant: bool,
        effective_on: datetime.date,
        actor: Actor,
    ) -> PolicyVersion:
        values = {"text": text, "summary": summary, "significant": significant, "effective_on": effective_on}
        result = await self.session.execute(
            update(PolicyVersion)
            .where(PolicyVersion.id == draft_id, PolicyVersion.published_at.is_(None))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.session.rollback()
            raise NotADraftError
        record(self.session, "policy.draft_saved", actor=actor, draft=str(draft_id))
        await self.session.commit()
        draft = await self.session.get(PolicyVersion, draft_id, populate_existing=True)
        assert draft is not None
        return draft

    async def discard_draft(self, draft_id: uuid.UUID, *, actor: Actor) -> bool:
        result = await self.session.execute(
            delete(PolicyVersion).where(PolicyVersion.id == draft_id, PolicyVersion.published_at.is_(None))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.session.rollback()
            return False
        record(self.session, "policy.draft_discarded", actor=actor, draft=str(draft_id))
        await self.session.commit()
        return True

    @staticmethod
    def problems(draft: PolicyVersion, current: PolicyVersion | None) -> dict[str, str]:
        """What stops the draft from being published, per field."""
        problems: dict[str, str] = {}
        if not draft.text.strip():
            problems["text"] = "The policy text is empty."
        elif current is not None and draft.text.strip() == current.text.strip():
            problems["text"] = f"The text is the same as version {current.number}: there is nothing to publish."
        if not draft.summary.strip():
            problems["summary"] = "Say in a few words what changed: readers see it in the history and the e-mail."
        today = datetime.datetime.now(datetime.UTC).date()
        if draft.effective_on is None or draft.effective_on < today:
            problems["effective_on"] = "The effective date cannot be in the past."
        return problems

    async def publish(self, draft_id: uuid.UUID, *, previewed: str, actor: Actor) -> Publication | None:
        """Publish the draft, as it was when previewed, as the next version; a significant
        one starts its mailing.

        ``previewed`` is the draft's :func:`revision` the officer saw: if the draft was
        saved since (in another tab), :class:`DraftChangedError`. Submitting twice
        publishes once: the second submit finds the draft published and gets the same
        version (and campaign) back. ``None`` when there is no such draft.
        """
        draft = await self.session.get(PolicyVersion, draft_id)
        if draft is None:
            return None
        if not draft.is_draft:
            return Publication(draft, await self.campaign_for(draft.id), already=True)
        if revision(draft) != previewed:
            raise DraftChangedError
        current = await self.latest(draft.kind)
        if problems := self.problems(draft, current):
            raise DraftInvalidError(problems=problems)
        now = utcnow()
        number = (current.number or 0) + 1 if current else 1
        try:
            result = await self.session.execute(
                update(PolicyVersion)
                .where(
                    PolicyVersion.id == draft_id,
                    PolicyVersion.published_at.is_(None),
                    PolicyVersion.updated_at == draft.updated_at,
                )
                .values(number=number, published_at=now, published_by_id=actor.id, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]  # published or saved meanwhile
                await self.session.rollback()
                version = await self.session.get(PolicyVersion, draft_id, populate_existing=True)
                if version is None:
                    return None
                if version.is_draft:
                    raise DraftChangedError
                return Publication(version, await self.campaign_for(version.id), already=True)
            campaign = None
            if draft.significant:
                active = (User.status == AccountStatus.ACTIVE, User.created_at <= now)
                total = await self.session.scalar(select(func.count()).select_from(User).where(*active)) or 0
                campaign = PolicyCampaign(version_id=draft_id, total=total, cutoff=now)
                self.session.add(campaign)
            record(
                self.session, "policy.published", actor=actor,
                kind=draft.kind.value, number=number, significant=draft.significant,
            )  # fmt: skip
            await self.session.commit()
        except IntegrityError as exc:  # (kind, number) taken by another draft published meanwhile
            await self.session.rollback()
            raise PublishRaceError from exc
        version = await self.session.get(PolicyVersion, draft_id, populate_existing=True)
        assert version is not None
        return Publication(version, campaign)

    # --- readers --------------------------------------------------------------------------

    async def acknowledge(self, user_id: uuid.UUID, kind: PolicyKind) -> int:
        """Record that the user has seen the latest version of ``kind``; its number."""
        number = await self.latest_number(kind)
        seen = select(func.max(PolicyAcknowledgement.version)).where(
            PolicyAcknowledgement.user_id == user_id, PolicyAcknowledgement.document == kind.value
        )
        if number and (await self.session.scalar(seen) or 0) < number:
            self.session.add(
                PolicyAcknowledgement(user_id=user_id, document=kind.value, version=number, context="notice")
            )
            await self.session.commit()
        return number

    async def pending_notices(self, user_id: uuid.UUID, joined: datetime.datetime) -> tuple[PolicyNotice, ...]:
        """Significant versions published after the user joined and newer than the last one
        they acknowledged: the newest per kind. One query (it runs on every signed-in page)."""
        rows = await self.session.execute(_PENDING, {"user_id": user_id, "joined": joined})
        notices: dict[PolicyKind, PolicyNotice] = {}
        for kind, number, effective_on, since in rows.all():
            notices.setdefault(kind, PolicyNotice(PolicyKind(kind), number, effective_on, since or number - 1))
        return tuple(notices.values())

    async def accept_at_sign_up(self, user: User) -> None:
        """The privacy policy version the person accepted, and, living outside the U.S.,
        their acknowledgement that data is stored there (in the sign-up's unit of work)."""
        accepted = await self.latest_number(PolicyKind.PRIVACY)
        self.session.add(
            PolicyAcknowledgement(user_id=user.id, document=PolicyKind.PRIVACY, version=accepted, context="signup")
        )
        if user.country != UNITED_STATES:
            self.acknowledge_us_transfer(user.id, context="signup")

    # --- the U.S. transfer notice and the person's acknowledgements (the profile's hooks) ---

    def acknowledge_us_transfer(self, user_id: uuid.UUID, *, context: str) -> None:
        """The person confirmed they read that their data is stored in the U.S. (written
        in the caller's unit of work); ``context`` says where (sign-up, profile)."""
        self.session.add(
            PolicyAcknowledgement(
                user_id=user_id, document=US_TRANSFER, version=US_TRANSFER_NOTICE_VERSION, context=context
            )
        )

    async def has_acknowledged_us_transfer(self, user_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(func.count())
            .select_from(PolicyAcknowledgement)
            .where(PolicyAcknowledgement.user_id == user_id, PolicyAcknowledgement.document == US_TRANSFER)
        )
        return bool(found)

    async def acknowledgements(self, user_id: uuid.UUID) -> Sequence[PolicyAcknowledgement]:
        """Every version and notice the person acknowledged, newest first."""
        statement = (
            select(PolicyAcknowledgement)
            .where(PolicyAcknowledgement.user_id == user_id)
            .order_by(PolicyAcknowledgement.acknowledged_at.desc())
        )
        return (await self.session.scalars(statement)).all()
