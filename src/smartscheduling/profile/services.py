"""The Profile section's rules: no lost updates, re-authentication for what matters,
closure that erases everything the registry lists. Each public method is one unit of
work and writes its audit events in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from smartscheduling.accounts.models import AccountToken, Role, TokenPurpose, User
from smartscheduling.accounts.services import Links, UserService
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import Actor, record
from smartscheduling.config import Settings
from smartscheduling.db import utcnow
from smartscheduling.mail.outbox import enqueue
from smartscheduling.personal_data import Holding, Registry
from smartscheduling.personal_data.erasure import erase_person
from smartscheduling.personal_data.export import export_archive
from smartscheduling.personal_data.merge import merge_person
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.security.passwords import PasswordHasher

CHANGE_EMAIL_LIFETIME = timedelta(hours=24)
SIGN_IN_ACTIONS = ("auth.login", "auth.login_failed", "auth.login_refused", "auth.logout")


class StaleProfileError(RefusedError):
    """The profile changed since the form was opened; ``current`` is how it is now."""

    kind = Refusal.CONFLICT
    sentence = "Your profile was changed elsewhere after you opened this form (on another device?)."

    def __init__(self, current: User) -> None:
        super().__init__()
        self.current = current


class WrongPasswordError(RefusedError):
    """The current password given to confirm a change did not match."""

    field = "current_password"
    sentence = "That is not your current password."


@dataclass(frozen=True, slots=True)
class HoldingSummary:
    holding: Holding
    rows: int


@dataclass(frozen=True, slots=True)
class AccessEntry:
    occurred_at: Any
    action: str
    details: dict[str, Any]
    actor_name: str
    actor_role: Role


@dataclass(frozen=True, slots=True)
class Dashboard:
    user: User
    holdings: Sequence[HoldingSummary]
    sign_ins: Sequence[AuditEvent]
    acknowledgements: Sequence[Any]
    cookie_consents: Sequence[Any]
    access_log: Sequence[AccessEntry]


@dataclass(frozen=True, slots=True)
class ProfileHooks:
    """What the profile shows or writes that other features keep, each called with the
    request's session; wired at the top (``app.py``), as features do not import each other."""

    #: Record that the person confirmed the U.S. storage notice, in the caller's unit of work.
    acknowledge_us_transfer: Callable[[AsyncSession, uuid.UUID], None]
    has_acknowledged_us_transfer: Callable[[AsyncSession, uuid.UUID], Awaitable[bool]]
    #: The policy versions and notices the person acknowledged, newest first.
    acknowledgements: Callable[[AsyncSession, uuid.UUID], Awaitable[Sequence[Any]]]
    #: The person's cookie-consent decisions, newest first.
    cookie_consents: Callable[[AsyncSession, uuid.UUID], Awaitable[Sequence[Any]]]


class ProfileService:
    """The signed-in person's own record. Methods take their row as identity loaded it in
    this request's session (``viewer.user``): nothing reads it again."""

    def __init__(
        self, session: AsyncSession, settings: Settings, hasher: PasswordHasher, registry: Registry, hooks: ProfileHooks
    ) -> None:
        self.session = session
        self.hasher = hasher
        self.registry = registry
        self.hooks = hooks
        self.users = UserService(session=session)
        self.links = Links(session, settings)

    async def _confirm_password(self, user: User, password: str, *, actor: Actor) -> None:
        matches, new_hash = await self.hasher.verify_and_update(password, user.password_hash)
        if not matches:
            record(self.session, "profile.password_check_failed", actor=actor, subject_id=user.id)
            await self.session.commit()
            raise WrongPasswordError
        if new_hash is not None:
            user.password_hash = new_hash

    async def update(
        self,
        user: User,
        *,
        version: int,
        changes: dict[str, Any],
        actor: Actor,
        acknowledge_us_transfer: bool = False,
    ) -> User:
        """Save ``changes`` only if the profile is still at ``version`` (the form's), and
        still at the version read in this request when the UPDATE runs (SQLAlchemy's
        ``version_id_col``); else :class:`StaleProfileError` with the current values, and
        nothing is written."""
        if version != user.profile_version:
            raise StaleProfileError(user)
        for column, value in changes.items():
            setattr(user, column, value)
        if acknowledge_us_transfer:
            self.hooks.acknowledge_us_transfer(self.session, user.id)
        # Which fields changed and by whom — never their old or new values.
        record(self.session, "profile.updated", actor=actor, subject_id=user.id, fields=sorted(changes))
        try:
            await self.session.commit()
        except StaleDataError:
            # Saved elsewhere between this request's read and its write.
            await self.session.rollback()
            await self.session.refresh(user)
            raise StaleProfileError(user) from None
        return user

    async def valid_token(self, raw: str, purpose: TokenPurpose) -> AccountToken | None:
        """The live token behind a link, without using it up."""
        return await self.links.valid(raw, purpose)

    async def record_export(self, user: User, *, actor: Actor) -> None:
        """The export is an event in the person's history (then streamed outside this unit)."""
        record(self.session, "profile.exported", actor=actor, subject_id=user.id)
        await self.session.commit()

    def archive(self, engine: AsyncEngine, user: User) -> AsyncIterator[bytes]:
        """The export ZIP, streamed; it reads on its own connections of ``engine``, as it
        outlives this request's unit of work."""
        return export_archive(engine, self.registry, user.id, user.name)

    async def has_acknowledged_us_transfer(self, user_id: uuid.UUID) -> bool:
        return await self.hooks.has_acknowledged_us_transfer(self.session, user_id)

    # --- e-mail address ---------------------------------------------------------------

    async def request_email_change(self, user: User, new_email: str, password: str, *, actor: Actor) -> None:
        """Send a confirmation link to the new address and tell the old one. Nothing
        changes until the link is opened."""
        await self._confirm_password(user, password, actor=actor)
        taken = await self.users.get_one_or_none(email=new_email)
        if taken is not None and taken.id != user.id:
            # The other account's owner learns someone tried; the requester learns nothing.
            enqueue(
                self.session, "email_change_address_taken", to=new_email, user_id=taken.id, context={"name": taken.name}
            )
        else:
            raw = self.links.issue(user, TokenPurpose.CHANGE_EMAIL, CHANGE_EMAIL_LIFETIME, email=new_email)
            enqueue(
                self.session,
                "email_change_confirm",
                to=new_email,
                user_id=user.id,
                context={"name": user.name, "url": self.links.url(f"/profile/email/confirm/{raw}"), "hours": 24},
            )
        # The old address can stop the change with one click, signed in or not.
        cancel = self.links.issue(user, TokenPurpose.CANCEL_EMAIL_CHANGE, CHANGE_EMAIL_LIFETIME)
        self.links.mail(
            user,
            "email_change_requested",
            new_email=new_email,
            cancel_url=self.links.url(f"/profile/email/cancel/{cancel}"),
            reset_url=self.links.url("/password/forgot"),
        )
        record(self.session, "profile.email_change_requested", actor=actor, subject_id=user.id)
        await self.session.commit()

    async def cancel_email_change(self, user_id: uuid.UUID, *, actor: Actor) -> bool:
        """The owner, signed in, stops every pending change of address; ``False`` when
        there was none."""
        pending = await self.pending_email_change(user_id)
        if pending is None:
            return False
        await self.links.void(user_id, TokenPurpose.CHANGE_EMAIL, TokenPurpose.CANCEL_EMAIL_CHANGE)
        record(self.session, "profile.email_change_cancelled", actor=actor, subject_id=user_id)
        await self.session.commit()
        return True

    async def cancel_email_change_by_link(self, raw: str, *, actor: Actor) -> bool:
        """The link in the warning to the old address: stops every pending change of
        address. ``False`` when the link is not live."""
        consumed = await self.links.consume(raw, TokenPurpose.CANCEL_EMAIL_CHANGE)
        if consumed is None:
            await self.session.rollback()
            return False
        user_id = consumed[0]
        await self.links.void(user_id, TokenPurpose.CHANGE_EMAIL, TokenPurpose.CANCEL_EMAIL_CHANGE)
        record(self.session, "profile.email_change_cancelled", actor=actor, subject_id=user_id, via="link")
        await self.session.commit()
        return True

    async def confirm_email_change(self, raw: str, *, actor: Actor) -> User | None:
        consumed = await self.links.consume(raw, TokenPurpose.CHANGE_EMAIL)
        user = await self.session.get(User, consumed[0]) if consumed else None
        if user is None or consumed is None or consumed[1] is None:
            await self.session.commit()
            return None
        new_email, old_email = consumed[1], user.email
        if await self.users.get_one_or_none(email=new_email) is not None:
            await self.session.commit()  # the address was taken meanwhile: the link is spent
            return None
        user.email = new_email
        user.email_verified_at = utcnow()
        enqueue(
            self.session,
            "email_changed",
            to=old_email,
            user_id=user.id,
            context={"name": user.name, "new_email": new_email, "reset_url": self.links.url("/password/forgot")},
        )
        record(self.session, "profile.updated", actor=actor.as_user(user.id), subject_id=user.id, fields=["email"])
        await self.session.commit()
        return user

    # --- password ------------------------------------------------------------------------

    async def change_password(self, user: User, current: str, new: str, *, actor: Actor) -> User:
        """Set the new password and raise the session epoch: every other session ends."""
        await self._confirm_password(user, current, actor=actor)
        user.password_hash = await self.hasher.hash(new)
        # Every session elsewhere ends, and every link sent before dies (a pending change
        # of address above all: it may be the intruder's).
        user.session_epoch += 1
        await self.links.void(user.id)
        self.links.mail(user, "password_changed", reset_url=self.links.url("/password/forgot"))
        record(self.session, "auth.password_changed", actor=actor, subject_id=user.id)
        await self.session.commit()
        return user

    # --- closing the account ------------------------------------------------------------

    async def close_account(self, user: User, password: str, *, now: datetime, actor: Actor) -> dict[str, int]:
        """Erase every holding in one transaction — all of it or, on any failure, none —
        and send a confirmation to the address held until now (the outbox erases it
        after delivery; the message is linked to nobody)."""
        await self._confirm_password(user, password, actor=actor)
        try:
            affected = await close_account_of(self.session, self.registry, user, now=now, network=actor.network)
            await self.session.commit()
        except BaseException:
            # At once, not when the request ends: until then the erasure's locks would
            # hold up everything else, the error page included.
            await self.session.rollback()
            raise
        return affected

    # --- "Your data" ----------------------------------------------------------------------

    async def dashboard(self, user: User) -> Dashboard:
        user_id = user.id
        summaries = []
        for holding in self.registry.holdings:
            count = await self.session.scalar(
                select(func.count()).select_from(holding.model).where(holding.belongs_to(user_id))
            )
            summaries.append(HoldingSummary(holding, count or 0))
        sign_ins = await self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_id == user_id, AuditEvent.action.in_(SIGN_IN_ACTIONS))
            .order_by(AuditEvent.occurred_at.desc())
            .limit(20)
        )
        actor = aliased(User)
        access = await self.session.execute(
            select(AuditEvent.occurred_at, AuditEvent.action, AuditEvent.details, actor.name, actor.role)
            .join(actor, actor.id == AuditEvent.actor_id)
            .where(and_(AuditEvent.subject_id == user_id, AuditEvent.actor_id != user_id))
            .order_by(AuditEvent.occurred_at.desc())
            .limit(100)
        )
        return Dashboard(
            user=user,
            holdings=summaries,
            sign_ins=list(sign_ins),
            acknowledgements=await self.hooks.acknowledgements(self.session, user_id),
            cookie_consents=await self.hooks.cookie_consents(self.session, user_id),
            access_log=[
                AccessEntry(occurred_at, action, details, name, Role(role))
                for occurred_at, action, details, name, role in access
            ],
        )

    # --- a client record staff made before the person had an account --------------------

    def _records_like(self, user: User) -> Select[tuple[User]]:
        """Records without an account that staff made with the person's confirmed address."""
        return select(User).where(
            User.email.is_(None), User.contact_email == user.email, User.role == Role.CLIENT, User.id != user.id
        )

    async def records_like(self, user: User) -> list[User]:
        """The records to offer to join, unless the person said they are not theirs."""
        if not user.is_verified:
            return []
        declined = await self.session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.actor_id == user.id, AuditEvent.action == "client.link_declined"
            )
        )
        refused = {details.get("record") for details in declined}
        records = (await self.session.scalars(self._records_like(user).order_by(User.created_at))).all()
        return [found for found in records if str(found.id) not in refused]

    async def join_record(self, user: User, record_id: uuid.UUID, *, actor: Actor) -> bool:
        """The record becomes part of the account (appointments, notes, history); whether
        there was such a record to join."""
        found = await self.session.scalar(self._records_like(user).where(User.id == record_id))
        if found is None or not user.is_verified:
            return False
        self.session.expunge(found)  # the row goes by statement, below
        moved = await merge_person(self.session, self.registry, found.id, user.id)
        record(self.session, "client.linked", actor=actor, subject_id=user.id, rows=moved)
        await self.session.commit()
        return True

    async def decline_record(self, user: User, record_id: uuid.UUID, *, actor: Actor) -> None:
        """ "Not me": the record stays the business's, and is not offered again."""
        if await self.session.scalar(self._records_like(user).where(User.id == record_id)) is not None:
            record(self.session, "client.link_declined", actor=actor, subject_id=user.id, record=str(record_id))
            await self.session.commit()

    async def pending_email_change(self, user_id: uuid.UUID) -> str | None:
        return await self.session.scalar(_PENDING_CHANGE, {"user_id": user_id, "now": utcnow()})


async def close_account_of(
    session: AsyncSession,
    registry: Registry,
    user: User,
    *,
    now: datetime,
    network: str | None,
    everything: bool = False,
) -> dict[str, int]:
    """Closing an account, in the caller's transaction (the person's own closure, or staff
    anonymizing or deleting an account holder): every holding erased as the registry
    declares (``everything``: the rows about them deleted too), a confirmation sent to
    the address held until now (the outbox erases it after delivery), and an audit event
    that points at nobody."""
    name, address = user.name, user.email
    affected = await erase_person(session, registry, user.id, now=now, everything=everything)
    session.expunge(user)
    enqueue(session, "account_closed", to=address, context={"name": name})
    record(session, "account.closed", actor=Actor(None, network))
    return affected


#: Built once (the profile page runs it on every view): the newest live change of address.
_PENDING_CHANGE = (
    select(AccountToken.email)
    .where(
        AccountToken.user_id == bindparam("user_id"),
        AccountToken.purpose == TokenPurpose.CHANGE_EMAIL,
        AccountToken.used_at.is_(None),
        AccountToken.expires_at > bindparam("now"),
    )
    .order_by(AccountToken.created_at.desc())
    .limit(1)
)
