"""Recording consent decisions (append-only) and counting page views."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.consent.decision import Decision, new_consent_id
from smartscheduling.consent.models import ConsentMethod, ConsentRecord, PageViewCount
from smartscheduling.consent.registry import OPTIONAL, Category
from smartscheduling.db import upsert_insert, utcnow


@dataclass(frozen=True)
class Choice:
    method: ConsentMethod
    categories: frozenset[Category]


def choice_from_form(choice: str, categories: Sequence[str], *, gpc: bool) -> Choice:
    """What a form asked for. ``ValueError`` (with a message for the visitor) on anything
    that is not one of the three choices or names an unknown or non-optional category.

    With Global Privacy Control, "Accept all" does not switch analytics on: only an
    explicit analytics choice under "Choose" does.
    """
    try:
        method = ConsentMethod(choice)
    except ValueError:
        msg = "Please choose Accept all, Reject all or your own selection."
        raise ValueError(msg) from None
    if method is ConsentMethod.GPC:
        msg = "Please choose Accept all, Reject all or your own selection."
        raise ValueError(msg)
    chosen: set[Category] = set()
    for name in categories:
        try:
            category = Category(name)
        except ValueError:
            msg = f"There is no cookie category called {str(name)[:40]!r}."
            raise ValueError(msg) from None
        if category not in OPTIONAL:
            msg = "Strictly necessary cookies are always on; there is nothing to choose."
            raise ValueError(msg)
        chosen.add(category)
    if method is ConsentMethod.ACCEPT_ALL:
        chosen = set(OPTIONAL) - ({Category.ANALYTICS} if gpc else set())
    elif method is ConsentMethod.REJECT_ALL:
        chosen = set()
    return Choice(method=method, categories=frozenset(chosen))


class ConsentService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def decide(
        self,
        *,
        consent_id: str | None,
        user_id: uuid.UUID | None,
        choice: Choice,
        policy_version: int,
        gpc: bool,
    ) -> Decision:
        """Record a decision and return it for the consent cookie. One transaction."""
        record = ConsentRecord(
            consent_id=consent_id or new_consent_id(),
            user_id=user_id,
            decided_at=utcnow().replace(microsecond=0),
            policy_version=policy_version,
            method=choice.method,
            preferences=Category.PREFERENCES in choice.categories,
            analytics=Category.ANALYTICS in choice.categories,
            gpc=gpc,
        )
        self.session.add(record)
        await self.session.commit()
        return Decision(
            consent_id=record.consent_id,
            policy_version=policy_version,
            preferences=record.preferences,
            analytics=record.analytics,
            analytics_despite_gpc=record.analytics and gpc,
            decided_at=record.decided_at,
        )

    async def record_gpc_withdrawal(self, decision: Decision, user_id: uuid.UUID | None) -> Decision:
        """GPC arrived after analytics was allowed: record, once per decision, that analytics
        is now refused. A replayed old cookie finds the record already there."""
        now = utcnow().replace(microsecond=0)
        already = await self.session.scalar(
            select(
                exists().where(
                    ConsentRecord.consent_id == decision.consent_id,
                    ConsentRecord.method == ConsentMethod.GPC,
                    ConsentRecord.decided_at >= decision.decided_at,
                )
            )
        )
        withdrawn = decision.without_analytics()
        if not already:
            self.session.add(
                ConsentRecord(
                    consent_id=decision.consent_id,
                    user_id=user_id,
                    decided_at=now,
                    policy_version=decision.policy_version,
                    method=ConsentMethod.GPC,
                    preferences=decision.preferences,
                    analytics=False,
                    gpc=True,
                )
            )
            await self.session.commit()
        return withdrawn

    async def link(self, consent_id: str | None, user_id: uuid.UUID) -> None:
        """At sign-in (the accounts' ``signed_in`` hook): this browser's anonymous
        decisions become the user's, in the sign-in's unit of work."""
        if not consent_id:
            return
        await self.session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.consent_id == consent_id, ConsentRecord.user_id.is_(None))
            .values(user_id=user_id)
        )

    async def history(self, *, consent_id: str | None, user_id: uuid.UUID | None) -> Sequence[ConsentRecord]:
        """Every decision of this user and this browser's decisions made by nobody else
        (a shared computer shows no one another's history); newest first."""
        conditions = []
        if consent_id:
            nobody_else = ConsentRecord.user_id.is_(None)
            if user_id:
                nobody_else = or_(nobody_else, ConsentRecord.user_id == user_id)
            conditions.append(and_(ConsentRecord.consent_id == consent_id, nobody_else))
        if user_id:
            conditions.append(ConsentRecord.user_id == user_id)
        if not conditions:
            return []
        statement = select(ConsentRecord).where(or_(*conditions))
        statement = statement.order_by(ConsentRecord.decided_at.desc(), ConsentRecord.id.desc())
        return (await self.session.scalars(statement)).all()


class PageViewService:
    """Page views per day and route: all analytics ever records (no visitor, no cookie id)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, route: str, day: datetime.date | None = None) -> None:
        """One more view of ``route`` on ``day`` (today); one statement, its own unit of work."""
        table = PageViewCount.__table__
        statement = upsert_insert(self.session.get_bind())(table).values(
            day=day or utcnow().date(), route=route, views=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.day, table.c.route], set_={"views": table.c.views + 1}
        )
        await self.session.execute(statement)
        await self.session.commit()

    async def since(self, day: datetime.date) -> Sequence[PageViewCount]:
        statement = select(PageViewCount).where(PageViewCount.day >= day)
        return (await self.session.scalars(statement.order_by(PageViewCount.day.desc(), PageViewCount.route))).all()
