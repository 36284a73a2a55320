"""The scheduling rules: the business and its settings."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from smartscheduling.audit.service import Actor, record
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.scheduling.models import THE_BUSINESS, Business

#: What the settings form edits, in its order.
SETTINGS = (
    "name", "time_zone", "country", "subdivision", "slot_step_minutes", "notice_minutes", "horizon_days",
    "cutoff_hours", "reminder_hours", "currency", "phone", "email",
)  # fmt: skip


class StaleSettingsError(RefusedError):
    """The settings changed since the form was opened; ``current`` is how they are now."""

    kind = Refusal.CONFLICT
    sentence = (
        "Someone saved the settings after you opened this form (in another tab, or a colleague). "
        "What you typed is still below: save again to replace their change, or reload the page to see it."
    )

    def __init__(self, current: Business) -> None:
        super().__init__()
        self.current = current


class BusinessService(SQLAlchemyAsyncRepositoryService[Business]):
    class Repo(SQLAlchemyAsyncRepository[Business]):
        model_type = Business

    repository_type = Repo

    async def current(self) -> Business:
        """The business: its row, or the defaults until an administrator first saves."""
        return await self.get_one_or_none(id=THE_BUSINESS) or Business.defaults()

    async def change(self, business: Business, *, version: int, values: dict[str, Any], actor: Actor) -> list[str]:
        """Save the settings if they are still at ``version`` (the form's); which fields
        changed. One unit of work with its audit event (the fields, not their values)."""
        if version != business.version:
            raise StaleSettingsError(business)
        changed = [name for name in SETTINGS if getattr(business, name) != values[name]]
        if not changed:
            return []
        session = self.repository.session
        first = inspect(business).transient
        for name in changed:
            setattr(business, name, values[name])
        if first:
            session.add(business)
        record(session, "business.updated", actor=actor, fields=changed)
        try:
            await session.commit()
        except (StaleDataError, IntegrityError):  # saved elsewhere since this request read it
            await session.rollback()
            raise StaleSettingsError(await self.current()) from None
        return changed
