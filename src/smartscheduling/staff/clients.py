"""The client directory: clients with an account and clients known only to staff (from
the phone or the front desk), found by any part of their name, e-mail address or phone
number; their records, the edits staff make and staff's notes.

Opening a record, changing it and adding a note are each an audit event on the client:
the person sees them in their "Your data" access log (staff member, what, when).
"""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.selectable import ScalarSelect

from smartscheduling.accounts.models import NO_PASSWORD, Role, User, digits, folded
from smartscheduling.accounts.schemas import normalize_phone
from smartscheduling.audit.service import Actor, record
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.scheduling.booking import AppointmentView, BookingService
from smartscheduling.scheduling.models import Appointment, AppointmentStatus
from smartscheduling.staff.models import ClientNote

#: Clients per page of the directory.
PAGE_SIZE = 50
#: How many digits a query must have to be read as the start of a national number.
NATIONAL_PART = 6
#: What a phone number is typed with: a query of only these (and a digit) is a number.
_PHONE_LIKE = re.compile(r"[\d\s+().\-/]+")


def search_pattern(query: str, region: str | None = None) -> str:
    """What a query looks for in the search text: a phone number by its digits (``+49 151
    …``, ``…5678``, or as dialled in ``region``: ``0151 …``), anything else folded
    (``ZOË`` finds ``Zoë``). Taken literally: ``%`` and ``_`` are characters to find, not
    wildcards."""
    query = " ".join(query.split())
    if not (_PHONE_LIKE.fullmatch(query) and any(char.isdigit() for char in query)):
        return folded(query)
    try:
        return digits(normalize_phone(query, region))
    except ValueError:  # a part of a number
        found = digits(query)
        # Six digits or more after a trunk 0 are a national number's start ("0151 12"):
        # stored numbers have the country code instead. Fewer are its end ("0958").
        return found.lstrip("0") if not query.startswith("+") and len(found) >= NATIONAL_PART else found


@dataclass(frozen=True, slots=True)
class ClientValues:
    """A record's details as staff typed them (the phone already in E.164)."""

    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class ClientRow:
    id: uuid.UUID
    name: str
    address: str | None
    phone: str | None
    has_account: bool
    last_visit: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    rows: list[ClientRow]
    #: The id to continue after (keyset pagination), or ``None`` on the last page.
    next_after: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class NoteView:
    note: ClientNote
    author: str | None


@dataclass(frozen=True, slots=True)
class ClientFile:
    client: User
    appointments: list[AppointmentView]
    notes: list[NoteView]


class ClientExistsError(RefusedError):
    kind = Refusal.CONFLICT
    field = "email"

    def __init__(self, field: str, existing: uuid.UUID) -> None:
        what = "e-mail address" if field == "email" else "phone number"
        super().__init__(problems={field: f"A client with this {what} is already in the directory."})
        self.existing = existing


class StaleClientError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = (
        "Someone changed this client's record after you opened it. What you typed is still below: "
        "save again to replace their change, or reload the page to see it."
    )


async def notes_of(session: AsyncSession, client_id: uuid.UUID) -> list[NoteView]:
    """Staff's notes on a client, the newest first, with who wrote each."""
    author = aliased(User)
    notes = await session.execute(
        select(ClientNote, author.name)
        .outerjoin(author, author.id == ClientNote.author_id)
        .where(ClientNote.client_id == client_id)
        .order_by(ClientNote.created_at.desc(), ClientNote.id.desc())
    )
    return [NoteView(note, name) for note, name in notes.all()]


def _last_visit(now: datetime.datetime) -> ScalarSelect[datetime.datetime]:
    return (
        select(func.max(Appointment.starts_at))
        .where(
            Appointment.client_id == User.id,
            Appointment.starts_at <= now,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .correlate(User)
        .scalar_subquery()
    )


class ClientService:
    """Staff's side of the clients. Methods that change something are units of work with
    their audit events."""

    def __init__(self, session: AsyncSession, bookings: BookingService) -> None:
        self.session = session
        self.bookings = bookings

    async def search(
        self, query: str, *, after: uuid.UUID | None, now: datetime.datetime, region: str | None = None
    ) -> DirectoryPage:
        """A page of clients in name order, matching ``query`` (empty: everyone); phone
        numbers as dialled in ``region`` (the business's country)."""
        statement = select(
            User.id, User.name, User.email, User.contact_email, User.phone, _last_visit(now).label("last_visit")
        ).where(User.role == Role.CLIENT)
        order = User.search_text
        if pattern := search_pattern(query, region):
            statement = statement.where(User.search_text.contains(pattern, autoescape=True))
            # The same order, written so that PostgreSQL finds the matches by the trigram
            # index and sorts them, instead of walking every name in order until enough
            # match (seconds for a rare fragment among a million).
            order = User.search_text.concat("")
        if after is not None:
            anchor = select(User.search_text).where(User.id == after).scalar_subquery()
            statement = statement.where(
                or_(User.search_text > anchor, and_(User.search_text == anchor, User.id > after))
            )
        rows = (await self.session.execute(statement.order_by(order, User.id).limit(PAGE_SIZE + 1))).all()
        found = [
            ClientRow(
                row.id, row.name, row.email or row.contact_email, row.phone, row.email is not None, row.last_visit
            )
            for row in rows[:PAGE_SIZE]
        ]
        return DirectoryPage(found, found[-1].id if len(rows) > PAGE_SIZE else None)

    async def get(self, client_id: uuid.UUID) -> User | None:
        """A client's row; ``None`` for anyone else (staff records are not the directory's)."""
        client = await self.session.get(User, client_id)
        return client if client is not None and client.role is Role.CLIENT else None

    async def open(self, client: User, *, actor: Actor) -> ClientFile:
        """The client's record as staff see it; opening it is an audit event."""
        found = ClientFile(
            client=client,
            appointments=await self.bookings.appointments_of(client.id),
            notes=await notes_of(self.session, client.id),
        )
        await self.viewed(client, actor=actor)
        return found

    async def viewed(self, client: User, *, actor: Actor) -> None:
        """Record that staff opened the client's details (in the access log they see)."""
        record(self.session, "client.viewed", actor=actor, subject_id=client.id)
        await self.session.commit()

    async def _refuse_duplicate(self, values: ClientValues, *, besides: uuid.UUID | None = None) -> None:
        for field, value, columns in (
            ("email", values.email, (User.email, User.contact_email)),
            ("phone", values.phone, (User.phone,)),
        ):
            if value is None:
                continue
            same = select(User.id).where(or_(*(column == value for column in columns)), User.role == Role.CLIENT)
            if besides is not None:
                same = same.where(User.id != besides)
            existing = await self.session.scalar(same.limit(1))
            if existing is not None:
                raise ClientExistsError(field, existing)

    async def create(self, values: ClientValues, *, actor: Actor) -> User:
        """A record for a client without an account (they cannot sign in with it)."""
        await self._refuse_duplicate(values)
        client = User(
            name=values.name, phone=values.phone, contact_email=values.email, email=None,
            password_hash=NO_PASSWORD, role=Role.CLIENT,
        )  # fmt: skip
        self.session.add(client)
        await self.session.flush()
        record(self.session, "client.created", actor=actor, subject_id=client.id)
        await self.session.commit()
        return client

    async def change(self, client: User, values: ClientValues, *, version: int, actor: Actor) -> list[str]:
        """Save the record if it is still at ``version``; which fields changed. An account
        holder's sign-in address is theirs to change (confirmed by e-mail), not staff's."""
        if version != client.profile_version:
            raise StaleClientError
        wanted = {"name": values.name, "phone": values.phone}
        if not client.has_account:
            wanted["contact_email"] = values.email
        changed = [name for name, value in wanted.items() if getattr(client, name) != value]
        if not changed:
            return []
        await self._refuse_duplicate(
            ClientValues(values.name, values.phone if "phone" in changed else None,
                         values.email if "contact_email" in changed else None),
            besides=client.id,
        )  # fmt: skip
        for name in changed:
            setattr(client, name, wanted[name])
        record(self.session, "client.updated", actor=actor, subject_id=client.id, fields=changed)
        try:
            await self.session.commit()
        except StaleDataError:  # saved elsewhere between this request's read and its write
            await self.session.rollback()
            raise StaleClientError from None
        return changed

    async def add_note(self, client: User, body: str, *, actor: Actor) -> ClientNote:
        note = ClientNote(client_id=client.id, author_id=actor.id, body=body)
        self.session.add(note)
        record(self.session, "client.note_added", actor=actor, subject_id=client.id)
        await self.session.commit()
        return note
