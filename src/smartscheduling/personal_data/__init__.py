"""Personal data as one engine: the vocabulary every capability declares its holdings in
(what it holds about a person, why, and what happens to it when they go), and the
engines that export and erase a person (``export``, ``erasure``).

The export (right of access), "Your data" and account closure (right to erasure) are
all driven by it. A test fails when a table that references a user or holds a personal
column (``__pii_columns__``) is missing here, or when a registered table has a column
nobody decided about — so a new capability cannot forget its data. Tables that hold no
personal data say so, with the reason, in :data:`NOT_PERSONAL`.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.db import AuditedModel, Model, NaturalKeyModel

AnyModel = type[AuditedModel] | type[Model] | type[NaturalKeyModel]


#: The reason a database's own bookkeeping columns (``id``, ``sa_orm_sentinel``) are not exported.
INTERNAL = "internal bookkeeping of the database, never about you"
#: The reason a ``user_id`` column is not exported: the account's id is, once.
YOUR_ACCOUNT_ID = "your account's id (shown above)"


class Erasure(enum.StrEnum):
    DELETE = "delete"
    ANONYMIZE = "anonymize"


@dataclass(frozen=True)
class Holding:
    """One table's share of a person's data."""

    key: str
    title: str
    #: Why we hold it, in words for the person (groups "Your data").
    purpose: str
    model: AnyModel
    #: Columns holding the person's id; a row is theirs when any of them matches.
    owners: tuple[str, ...]
    #: Columns given to the person in their export.
    shown: tuple[str, ...]
    #: Every other column, with the reason it is not exported.
    withheld: Mapping[str, str]
    erasure: Erasure
    #: For ``ANONYMIZE``: why anything is kept at all.
    kept_because: str = ""
    #: For ``ANONYMIZE``: further columns blanked, besides the owner columns.
    blanked: tuple[str, ...] = ()
    #: Extra values for the export, derived from a row (``row, person id -> dict``); a
    #: shown column it names is replaced (another person's text in a row of theirs, say).
    derived: Callable[[Any, uuid.UUID], dict[str, Any]] | None = None
    #: The names ``derived`` gives values for (the readable export's columns).
    derived_columns: tuple[str, ...] = ()
    order_by: str = "id"
    #: Run in the erasure's transaction before the rows are deleted or anonymized
    #: (``session, person, now``): cancelling the upcoming appointments, say.
    before_erasure: Callable[[AsyncSession, uuid.UUID, datetime.datetime], Awaitable[object]] | None = None
    #: The owner column naming whom a row is *about*, where a row also names others (the
    #: note's author, the staff member who served). A ``DELETE`` holding deletes only the
    #: rows about the person and blanks them elsewhere (another's note keeps its text);
    #: erasing "everything" (staff deleting a client) deletes the rows about the person
    #: from ``ANONYMIZE`` holdings too.
    about: str | None = None

    def belongs_to(self, person: uuid.UUID) -> ColumnElement[bool]:
        return or_(*(getattr(self.model, column) == person for column in self.owners))


@dataclass(frozen=True)
class Registry:
    """Every holding of every capability (assembled at the top, ``smartscheduling.registry``),
    and every table that is no holding, each with the reason: a new table must be one or
    the other (the registry test enforces it)."""

    holdings: tuple[Holding, ...]
    not_personal: Mapping[str, str]

    def erasure_order(self) -> tuple[Holding, ...]:
        """Dependents before the account row they point at (the first holding)."""
        return (*self.holdings[1:], self.holdings[0])
