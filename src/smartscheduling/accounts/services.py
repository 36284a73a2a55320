"""Account rules. Every public method is one unit of work: it commits, or nothing changes.

Each change writes its audit event and queues its e-mail in the same transaction.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.accounts.models import AccountStatus, AccountToken, Role, TokenPurpose, User
from smartscheduling.accounts.schemas import SignupForm
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import SYSTEM, Actor, record
from smartscheduling.config import Settings
from smartscheduling.db import utcnow
from smartscheduling.mail.outbox import enqueue
from smartscheduling.security.passwords import PasswordHasher

VERIFY_EMAIL_LIFETIME = timedelta(hours=24)
RESET_PASSWORD_LIFETIME = timedelta(hours=1)


class UserService(SQLAlchemyAsyncRepositoryService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo


class LoginFailure(enum.StrEnum):
    NO_MATCH = "no_match"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    failure: LoginFailure | None = None


#: Another capability's part of a sign-up, in the same unit of work (e.g. the policy
#: versions accepted). Wired at the top (``app.py``).
SignedUp = Callable[[AsyncSession, User], Awaitable[None]]
#: …of a sign-in; the second argument is the browser's own anonymous id (its cookie-consent
#: records), as the request carried it.
SignedIn = Callable[[AsyncSession, User, str | None], Awaitable[None]]


@dataclass(frozen=True)
class AccountHooks:
    signed_up: tuple[SignedUp, ...] = ()
    signed_in: tuple[SignedIn, ...] = ()


class Links:
    """Single-use links e-mailed to an account holder, and the e-mails themselves: issued,
    checked and spent inside the caller's unit of work."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def _digest(self, raw: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), raw.encode(), hashlib.sha256).hexdigest()

    def issue(self, user: User, purpose: TokenPurpose, lifetime: timedelta, email: str | None = None) -> str:
        raw = secrets.token_urlsafe(32)
        self.session.add(
            AccountToken(
                user_id=user.id,
                purpose=purpose,
                token_hash=self._digest(raw),
                email=email,
                expires_at=utcnow() + lifetime,
                epoch=user.session_epoch,
            )
        )
        return raw

    def _live(self, raw: str, purpose: TokenPurpose) -> tuple[ColumnElement[bool], ...]:
        """The link is this one, unused, unexpired, and sent under the account's current
        session epoch (a password change or reset since then voids it)."""
        current_epoch = select(User.session_epoch).where(User.id == AccountToken.user_id).scalar_subquery()
        return (
            AccountToken.token_hash == self._digest(raw),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
            AccountToken.epoch == current_epoch,
        )

    async def valid(self, raw: str, purpose: TokenPurpose) -> AccountToken | None:
        """The live token behind a link, without using it up."""
        return await self.session.scalar(select(AccountToken).where(*self._live(raw, purpose)))

    async def consume(self, raw: str, purpose: TokenPurpose) -> tuple[uuid.UUID, str | None] | None:
        """Use a live token up, atomically: of two simultaneous uses exactly one succeeds."""
        row = (
            await self.session.execute(
                update(AccountToken)
                .where(*self._live(raw, purpose))
                .values(used_at=utcnow())
                .returning(AccountToken.user_id, AccountToken.email)
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        return (row.user_id, row.email) if row else None

    async def void(self, user_id: uuid.UUID, *purposes: TokenPurpose) -> None:
        """Spend the user's outstanding links (of ``purposes``, or all of them)."""
        statement = update(AccountToken).where(AccountToken.user_id == user_id, AccountToken.used_at.is_(None))
        if purposes:
            statement = statement.where(AccountToken.purpose.in_(purposes))
        await self.session.execute(statement.values(used_at=utcnow()).execution_options(synchronize_session=False))

    def url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    def mail(self, user: User, kind: str, **context: object) -> None:
        """Queue ``templates/mail/<kind>`` to the user, in this unit of work."""
        enqueue(self.session, kind, to=user.email, user_id=user.id, context={"name": user.name, **context})


class AccountService:
    def __init__(
        self, session: AsyncSession, settings: Settings, hasher: PasswordHasher, hooks: AccountHooks | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.hasher = hasher
        self.hooks = hooks or AccountHooks()
        self.users = UserService(session=session)
        self.links = Links(session, settings)

    async def valid_token(self, raw: str, purpose: TokenPurpose) -> AccountToken | None:
        """The live token behind a link, without using it up."""
        return await self.links.valid(raw, purpose)

    def _send_verification(self, user: User, next_page: str = "") -> None:
        raw = self.links.issue(user, TokenPurpose.VERIFY_EMAIL, VERIFY_EMAIL_LIFETIME, email=user.email)
        back = f"?{urlencode({'next': next_page})}" if next_page else ""
        self.links.mail(
            user,
            "verify_email",
            url=self.links.url(f"/verify-email/{raw}{back}"),
            hours=VERIFY_EMAIL_LIFETIME // timedelta(hours=1),
        )

    # --- sign-up and verification ------------------------------------------------------

    async def sign_up(
        self, form: SignupForm, *, actor: Actor, notify_existing: bool = True, next_page: str = ""
    ) -> None:
        """Create the account, or — when the address is taken — tell its owner by e-mail
        (unless ``notify_existing`` is off: they were told often enough lately). Both cost
        one password hash and show the same page: nobody learns who has an account.
        ``next_page``: a local path the e-mailed links lead back to after signing in."""
        existing = await self.users.get_one_or_none(email=form.email)
        if existing is None:
            if await self._create_client(form, actor=actor, next_page=next_page):
                return
            existing = await self.users.get_one_or_none(email=form.email)  # lost a race for the address
        else:
            await self.hasher.burn(form.password)
        if existing is not None:
            if notify_existing:
                back = f"?{urlencode({'next': next_page})}" if next_page else ""
                login, reset = self.links.url(f"/login{back}"), self.links.url("/password/forgot")
                self.links.mail(existing, "account_exists", login_url=login, reset_url=reset)
            record(
                self.session, "account.signup_with_existing_address", actor=actor, subject_id=existing.id,
                owner_told=notify_existing,
            )  # fmt: skip
        await self.session.commit()

    async def _create_client(self, form: SignupForm, *, actor: Actor, next_page: str) -> bool:
        """``False`` (nothing written) when the address was taken in the meantime."""
        user = User(
            email=form.email,
            name=form.name,
            password_hash=await self.hasher.hash(form.password),
            date_of_birth=form.date_of_birth,
            country=form.country,
            role=Role.CLIENT,
        )
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            return False
        for signed_up in self.hooks.signed_up:
            await signed_up(self.session, user)
        self._send_verification(user, next_page)
        record(self.session, "account.signup", actor=actor.as_user(user.id), subject_id=user.id)
        await self.session.commit()
        return True

    async def verify_email(self, raw: str, *, actor: Actor) -> User | None:
        consumed = await self.links.consume(raw, TokenPurpose.VERIFY_EMAIL)
        user = await self.session.get(User, consumed[0]) if consumed else None
        if user is None or consumed is None or user.email != consumed[1]:
            await self.session.commit()  # a token for an address no longer on the account is spent too
            return None
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            record(self.session, "account.email_verified", actor=actor.as_user(user.id), subject_id=user.id)
        await self.session.commit()
        return user

    async def resend_verification(self, user_id: uuid.UUID, *, actor: Actor) -> None:
        user = await self.session.get(User, user_id)
        if user is None or user.is_verified:
            return
        self._send_verification(user)
        record(self.session, "account.verification_resent", actor=actor, subject_id=user.id)
        await self.session.commit()

    # --- login -------------------------------------------------------------------------

    async def authenticate(
        self, email: str, password: str, *, actor: Actor, browser_id: str | None = None
    ) -> LoginResult:
        """One password hash whatever happens, so timing reveals nothing. A matching login
        whose hash is below the current iteration policy is re-hashed and saved, and the
        ``signed_in`` hooks run (the browser's anonymous consent records become the user's)."""
        user = await self.users.get_one_or_none(email=email)
        if user is None:
            await self.hasher.burn(password)
            record(self.session, "auth.login_failed", actor=actor, reason="no_match")
            await self.session.commit()
            return LoginResult(None, LoginFailure.NO_MATCH)
        matches, new_hash = await self.hasher.verify_and_update(password, user.password_hash)
        if not matches:
            record(self.session, "auth.login_failed", actor=actor, subject_id=user.id, reason="wrong_password")
            await self.session.commit()
            return LoginResult(None, LoginFailure.NO_MATCH)
        if user.status != AccountStatus.ACTIVE:
            record(self.session, "auth.login_refused", actor=actor, subject_id=user.id, reason=user.status.value)
            await self.session.commit()
            return LoginResult(None, LoginFailure.SUSPENDED)
        if new_hash is not None:
            user.password_hash = new_hash
            record(self.session, "auth.password_rehashed", actor=actor.as_user(user.id), subject_id=user.id)
        record(self.session, "auth.login", actor=actor.as_user(user.id), subject_id=user.id)
        for signed_in in self.hooks.signed_in:
            await signed_in(self.session, user, browser_id)
        await self.session.commit()
        return LoginResult(user)

    async def has_signed_in_from(self, email: str, network: str) -> bool:
        """Whether the account with this address (if any) ever signed in from ``network``
        (as the audit log remembers it). One query whether or not the account exists."""
        return bool(
            await self.session.scalar(
                select(
                    exists().where(
                        User.email == email,
                        AuditEvent.subject_id == User.id,
                        AuditEvent.action == "auth.login",
                        AuditEvent.ip_prefix == network,
                    )
                )
            )
        )

    async def log_out(self, *, actor: Actor) -> None:
        record(self.session, "auth.logout", actor=actor, subject_id=actor.id)
        await self.session.commit()

    # --- password reset ----------------------------------------------------------------

    async def request_password_reset(self, email: str, *, actor: Actor) -> None:
        """The same outcome on screen whether or not the account exists, and the same
        work, so that timing tells nothing either: one e-mail to the address, written
        to the outbox with its audit event in one transaction. An active account's
        owner gets a link; any other address is told that no active account uses it
        (useful to someone who forgot which address they signed up with)."""
        user = await self.users.get_one_or_none(email=email)
        if user is not None and user.status == AccountStatus.ACTIVE:
            raw = self.links.issue(user, TokenPurpose.RESET_PASSWORD, RESET_PASSWORD_LIFETIME)
            self.links.mail(
                user,
                "password_reset",
                url=self.links.url(f"/password/reset/{raw}"),
                minutes=RESET_PASSWORD_LIFETIME // timedelta(minutes=1),
            )
            record(self.session, "auth.password_reset_requested", actor=actor, subject_id=user.id)
        else:
            context = {"signup_url": self.links.url("/signup")}
            enqueue(self.session, "password_reset_no_account", to=email, context=context)
            record(self.session, "auth.password_reset_requested", actor=actor, account=False)
        await self.session.commit()

    async def user_for_token(self, raw: str, purpose: TokenPurpose) -> User | None:
        token = await self.valid_token(raw, purpose)
        return await self.session.get(User, token.user_id) if token else None

    async def reset_password(self, raw: str, new_password: str, *, actor: Actor) -> User | None:
        """Set the new password, end every session of the user, tell them by e-mail.
        ``None`` when the link is unknown, expired or already used."""
        consumed = await self.links.consume(raw, TokenPurpose.RESET_PASSWORD)
        user = await self.session.get(User, consumed[0]) if consumed else None
        if user is None:
            await self.session.rollback()
            return None
        user.password_hash = await self.hasher.hash(new_password)
        # Every other link sent before (another reset, a pending e-mail change) dies with
        # this one: whoever asked for them may be the person the owner is locking out.
        user.session_epoch += 1
        await self.links.void(user.id)
        self.links.mail(user, "password_changed", reset_url=self.links.url("/password/forgot"))
        record(self.session, "auth.password_reset", actor=actor.as_user(user.id), subject_id=user.id)
        await self.session.commit()
        return user

    # --- administration ----------------------------------------------------------------

    async def create_user(self, *, email: str, name: str, password: str, role: Role) -> User:
        """An account made by an administrator (CLI, demo data): its address counts as verified."""
        user = User(
            email=email,
            name=name,
            password_hash=await self.hasher.hash(password),
            role=role,
            email_verified_at=utcnow(),
        )
        self.session.add(user)
        await self.session.flush()
        record(self.session, "account.created_by_admin", actor=SYSTEM, subject_id=user.id, role=role.value)
        await self.session.commit()
        return user
