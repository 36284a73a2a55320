"""The business's whole audit log, for privacy officers and administrators: who did what
to whose data and when, filtered by the person it concerns, the staff member who acted,
the action and the days, newest first, 50 a page (keyset on time and id)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from smartscheduling.accounts.models import Role, User
from smartscheduling.audit.models import AuditEvent
from smartscheduling.staff.clients import search_pattern

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditFilter:
    person: str = ""  # any part of the name, e-mail or phone of whom it concerns
    region: str | None = None  # the business's country: a phone number as dialled there
    staff_id: uuid.UUID | None = None
    action: str = ""
    since: datetime.datetime | None = None  # from this instant (the first day's midnight)
    until: datetime.datetime | None = None  # before this instant (the midnight after the last day)


@dataclass(frozen=True, slots=True)
class Entry:
    event: AuditEvent
    actor: str | None
    actor_role: Role | None
    subject: str | None
    subject_role: Role | None


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[Entry]
    next_before: uuid.UUID | None


class AuditLogService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def actions(self) -> list[str]:
        return list(await self.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))

    async def staff(self) -> list[tuple[uuid.UUID, str]]:
        """Everyone who may act on others' data (not clients), by name."""
        found = await self.session.execute(
            select(User.id, User.name).where(User.role != Role.CLIENT).order_by(User.name, User.id)
        )
        return [(row.id, row.name) for row in found]

    async def page(self, wanted: AuditFilter, *, before: uuid.UUID | None) -> LogPage:
        actor, subject = aliased(User), aliased(User)
        statement: Any = (
            select(AuditEvent, actor.name, actor.role, subject.name, subject.role)
            .outerjoin(actor, actor.id == AuditEvent.actor_id)
            .outerjoin(subject, subject.id == AuditEvent.subject_id)
        )
        if pattern := search_pattern(wanted.person, wanted.region):
            statement = statement.where(subject.search_text.contains(pattern, autoescape=True))
        if wanted.staff_id is not None:
            statement = statement.where(AuditEvent.actor_id == wanted.staff_id)
        if wanted.action:
            statement = statement.where(AuditEvent.action == wanted.action)
        if wanted.since is not None:
            statement = statement.where(AuditEvent.occurred_at >= wanted.since)
        if wanted.until is not None:
            statement = statement.where(AuditEvent.occurred_at < wanted.until)
        if before is not None:
            anchor = select(AuditEvent.occurred_at).where(AuditEvent.id == before).scalar_subquery()
            statement = statement.where(
                or_(AuditEvent.occurred_at < anchor, and_(AuditEvent.occurred_at == anchor, AuditEvent.id < before))
            )
        rows = (
            await self.session.execute(
                statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
            )
        ).all()
        entries = [Entry(*row) for row in rows[:PAGE_SIZE]]
        return LogPage(entries, entries[-1].event.id if len(rows) > PAGE_SIZE else None)
