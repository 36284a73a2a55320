"""Editing the processor register: every change is an audit event in the same transaction."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from advanced_alchemy.exceptions import IntegrityError
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import func, select

from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor, record
from smartscheduling.processors.models import Processor
from smartscheduling.refusals import Refusal, RefusedError

FIELDS = ("name", "purpose", "data_categories", "location", "safeguards", "website")
ACTIONS = ("processor.created", "processor.updated", "processor.deleted")


class NameTakenError(RefusedError):
    """Another processor already has this name."""

    kind = Refusal.CONFLICT
    field = "name"
    sentence = "A processor with this name is already in the register."


class ProcessorService(SQLAlchemyAsyncRepositoryService[Processor]):
    class Repo(SQLAlchemyAsyncRepository[Processor]):
        model_type = Processor

    repository_type = Repo

    async def register(self) -> Sequence[Processor]:
        return await self.get_many(order_by=[("name", False)])

    async def last_changed(self) -> datetime.datetime | None:
        """When the register last changed: the newest edit, removals included (a removed
        processor leaves no row behind, only its audit event)."""
        session = self.repository.session
        audited = select(func.max(AuditEvent.occurred_at)).where(AuditEvent.action.in_(ACTIONS))
        edited = (await session.scalar(audited), await session.scalar(select(func.max(Processor.updated_at))))
        return max((moment for moment in edited if moment is not None), default=None)

    async def add(self, values: dict[str, Any], *, actor: Actor) -> Processor:
        try:
            processor = await self.create(Processor(**values))
        except IntegrityError:  # the unique name (advanced-alchemy reports it differently per database)
            await self.repository.session.rollback()
            raise NameTakenError from None
        record(self.repository.session, "processor.created", actor=actor, processor=processor.name)
        await self.repository.session.commit()
        return processor

    async def change(self, processor: Processor, values: dict[str, Any], *, actor: Actor) -> Processor:
        changed = sorted(name for name in FIELDS if getattr(processor, name) != values[name])
        if not changed:
            return processor
        try:
            processor = await self.update(values, item_id=processor.id)
        except IntegrityError:  # the unique name (advanced-alchemy reports it differently per database)
            await self.repository.session.rollback()
            await self.repository.session.refresh(processor)  # the caller shows it again, as it is stored
            raise NameTakenError from None
        record(
            self.repository.session, "processor.updated", actor=actor,
            processor=processor.name, fields=changed,
        )  # fmt: skip
        await self.repository.session.commit()
        return processor

    async def remove(self, processor: Processor, *, actor: Actor) -> None:
        await self.delete(processor.id)
        record(self.repository.session, "processor.deleted", actor=actor, processor=processor.name)
        await self.repository.session.commit()
