"""Account rules. Every public method is one unit of work: it commits, or nothing changes.

Each change writes its audit event and queues its e-mail in the same transaction.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.accounts.countries import UNITED_STATES
from smartscheduling.accounts.models import (
    AccountStatus,
    AccountToken,
    PolicyAcknowledgement,
    Role,
    TokenPurpose,
    User,
)
from smartscheduling.accounts.schemas import SignupForm
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import record
from smartscheduling.config import Settings
from smartscheduling.consent.services import ConsentService
from smartscheduling.db import utcnow
from smartscheduling.mail.outbox import enqueue
from smartscheduling.policies.models import PolicyKind
from smartscheduling.policies.services import latest_number
from smartscheduling.policies.text import US_TRANSFER_NOTICE_VERSION
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


class AccountService:
    def __init__(self, session: AsyncSession, settings: Settings, hasher: PasswordHasher) -> None:
        self.session = session
        self.settings = settings
        self.hasher = hasher
        self.users = UserService(session=session)

    # --- tokens ------------------------------------------------------------------------

    def _digest(self, raw: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), raw.encode(), hashlib.sha256).hexdigest()

    def _issue_token(self, user: User, purpose: TokenPurpose, lifetime: timedelta, email: str | None = None) -> str:
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

    async def valid_token(self, raw: str, purpose: TokenPurpose) -> AccountToken | None:
        """The live token behind a link, without using it up."""
        return await self.session.scalar(select(AccountToken).where(*self._live(raw, purpose)))

    async def _consume_token(self, raw: str, purpose: TokenPurpose) -> tuple[uuid.UUID, str | None] | None:
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

    async def _void_links(self, user_id: uuid.UUID, *purposes: TokenPurpose) -> None:
        """Spend the user's outstanding links (of ``purposes``, or all of them)."""
        statement = update(AccountToken).where(AccountToken.user_id == user_id, AccountToken.used_at.is_(None))
        if purposes:
            statement = statement.where(AccountToken.purpose.in_(purposes))
        await self.session.execute(statement.values(used_at=utcnow()).execution_options(synchronize_session=False))

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    def _mail(self, user: User, kind: str, **context: object) -> None:
        """Queue ``templates/mail/<kind>`` to the user, in this unit of work."""
        enqueue(self.session, kind, to=user.email, user_id=user.id, context={"name": user.name, **context})

    def _send_verification(self, user: User) -> None:
        raw = self._issue_token(user, TokenPurpose.VERIFY_EMAIL, VERIFY_EMAIL_LIFETIME, email=user.email)
        self._mail(
            user,
            "verify_email",
            url=self._url(f"/verify-email/{raw}"),
            hours=VERIFY_EMAIL_LIFETIME // timedelta(hours=1),
        )

    # --- sign-up and verification ------------------------------------------------------

    async def sign_up(self, form: SignupForm, *, ip: str | None, notify_existing: bool = True) -> None:
        """Create the account, or — when the address is taken — tell its owner by e-mail
        (unless ``notify_existing`` is off: they were told often enough lately). Both cost
        one password hash and show the same page: nobody learns who has an account."""
        existing = await self.users.get_one_or_none(email=form.email)
        if existing is None:
            if await self._create_client(form, ip=ip):
                return
            existing = await self.users.get_one_or_none(email=form.email)  # lost a race for the address
        else:
            await self.hasher.burn(form.password)
        if existing is not None:
            if notify_existing:
                self._mail(
                    existing, "account_exists", login_url=self._url("/login"), reset_url=self._url("/password/forgot")
                )
            record(
                self.session, "account.signup_with_existing_address", subject_id=existing.id, ip=ip,
                owner_told=notify_existing,
            )  # fmt: skip
        await self.session.commit()

    async def _create_client(self, form: SignupForm, *, ip: str | None) -> bool:
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
        accepted = await latest_number(self.session, PolicyKind.PRIVACY)
        self.session.add(
            PolicyAcknowledgement(user_id=user.id, document=PolicyKind.PRIVACY, version=accepted, context="signup")
        )
        if form.country != UNITED_STATES:
            self.session.add(
                PolicyAcknowledgement(
                    user_id=user.id, document="us_transfer", version=US_TRANSFER_NOTICE_VERSION, context="signup"
                )
            )
        self._send_verification(user)
        record(self.session, "account.signup", actor_id=user.id, subject_id=user.id, ip=ip)
        await self.session.commit()
        return True

    async def verify_email(self, raw: str, *, ip: str | None) -> User | None:
        consumed = await self._consume_token(raw, TokenPurpose.VERIFY_EMAIL)
        user = await self.session.get(User, consumed[0]) if consumed else None
        if user is None or consumed is None or user.email != consumed[1]:
            await self.session.commit()  # a token for an address no longer on the account is spent too
            return None
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            record(self.session, "account.email_verified", actor_id=user.id, subject_id=user.id, ip=ip)
        await self.session.commit()
        return user

    async def resend_verification(self, user_id: uuid.UUID) -> None:
        user = await self.session.get(User, user_id)
        if user is None or user.is_verified:
            return
        self._send_verification(user)
        record(self.session, "account.verification_resent", actor_id=user.id, subject_id=user.id)
        await self.session.commit()

    # --- login -------------------------------------------------------------------------

    async def authenticate(
        self, email: str, password: str, *, ip: str | None, consent_id: str | None = None
    ) -> LoginResult:
        """One password hash whatever happens, so timing reveals nothing. A matching login
        whose hash is below the current iteration policy is re-hashed and saved, and the
        browser's anonymous cookie-consent decisions (``consent_id``) become the user's."""
        user = await self.users.get_one_or_none(email=email)
        if user is None:
            await self.hasher.burn(password)
            record(self.session, "auth.login_failed", ip=ip, reason="no_match")
            await self.session.commit()
            return LoginResult(None, LoginFailure.NO_MATCH)
        matches, new_hash = await self.hasher.verify_and_update(password, user.password_hash)
        if not matches:
            record(self.session, "auth.login_failed", subject_id=user.id, ip=ip, reason="wrong_password")
            await self.session.commit()
            return LoginResult(None, LoginFailure.NO_MATCH)
        if user.status != AccountStatus.ACTIVE:
            record(self.session, "auth.login_refused", subject_id=user.id, ip=ip, reason=user.status.value)
            await self.session.commit()
            return LoginResult(None, LoginFailure.SUSPENDED)
        if new_hash is not None:
            user.password_hash = new_hash
            record(self.session, "auth.password_rehashed", actor_id=user.id, subject_id=user.id)
        record(self.session, "auth.login", actor_id=user.id, subject_id=user.id, ip=ip)
        if consent_id:
            await ConsentService(self.session).link(consent_id, user.id)
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

    async def log_out(self, user_id: uuid.UUID, *, ip: str | None) -> None:
        record(self.session, "auth.logout", actor_id=user_id, subject_id=user_id, ip=ip)
        await self.session.commit()

    # --- password reset ----------------------------------------------------------------

    async def request_password_reset(self, email: str, *, ip: str | None) -> None:
        """The same outcome on screen whether or not the account exists, and the same
        work, so that timing tells nothing either: one e-mail to the address, written
        to the outbox with its audit event in one transaction. An active account's
        owner gets a link; any other address is told that no active account uses it
        (useful to someone who forgot which address they signed up with)."""
        user = await self.users.get_one_or_none(email=email)
        if user is not None and user.status == AccountStatus.ACTIVE:
            raw = self._issue_token(user, TokenPurpose.RESET_PASSWORD, RESET_PASSWORD_LIFETIME)
            self._mail(
                user,
                "password_reset",
                url=self._url(f"/password/reset/{raw}"),
                minutes=RESET_PASSWORD_LIFETIME // timedelta(minutes=1),
            )
            record(self.session, "auth.password_reset_requested", subject_id=user.id, ip=ip)
        else:
            enqueue(self.session, "password_reset_no_account", to=email, context={"signup_url": self._url("/signup")})
            record(self.session, "auth.password_reset_requested", ip=ip, account=False)
        await self.session.commit()

    async def user_for_token(self, raw: str, purpose: TokenPurpose) -> User | None:
        token = await self.valid_token(raw, purpose)
        return await self.session.get(User, token.user_id) if token else None

    async def reset_password(self, raw: str, new_password: str, *, ip: str | None) -> User | None:
        """Set the new password, end every session of the user, tell them by e-mail.
        ``None`` when the link is unknown, expired or already used."""
        consumed = await self._consume_token(raw, TokenPurpose.RESET_PASSWORD)
        user = await self.session.get(User, consumed[0]) if consumed else None
        if user is None:
            await self.session.rollback()
            return None
        user.password_hash = await self.hasher.hash(new_password)
        # Every other link sent before (another reset, a pending e-mail change) dies with
        # this one: whoever asked for them may be the person the owner is locking out.
        user.session_epoch += 1
        await self._void_links(user.id)
        self._mail(user, "password_changed", reset_url=self._url("/password/forgot"))
        record(self.session, "auth.password_reset", actor_id=user.id, subject_id=user.id, ip=ip)
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
        record(self.session, "account.created_by_admin", subject_id=user.id, role=role.value)
        await self.session.commit()
        return user
