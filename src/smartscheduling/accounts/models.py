"""Accounts: users and their single-use tokens."""

from __future__ import annotations

import datetime
import enum
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, ForeignKey, Index, Integer, String, event, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import AuditedModel, Model, text_enum, utcnow


class Role(enum.StrEnum):
    CLIENT = "client"
    STAFF = "staff"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def admits(role: Role | None, roles: Iterable[Role]) -> bool:
    """Whether someone of ``role`` (``None``: signed out) may do what ``roles`` may:
    administrators may do everything any role may."""
    return role is not None and (role is Role.ADMIN or role in roles)


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


#: The password hash of someone who never signs in (a stylist, a client known only to
#: staff): no password matches it.
NO_PASSWORD = "!"  # noqa: S105 (the opposite of a password)
#: Short enough for a PostgreSQL b-tree entry even in 4-byte characters.
SEARCH_TEXT_LENGTH = 600


def folded(text: str) -> str:
    """``text`` as searches compare it: case and accents folded (``Zoë`` → ``zoe``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


class User(AuditedModel):
    """A person: an account holder (``email`` set: they sign in with it), or a client known
    only to staff, from the phone or the front desk (``email`` ``None``, no password;
    ``contact_email`` and ``phone`` are how the business reaches them)."""

    __tablename__ = "user_account"
    __pii_columns__ = frozenset(
        {"email", "name", "date_of_birth", "country", "phone", "postal_address", "time_zone", "language"}
        | {"contact_email", "search_text"}
    )
    __table_args__ = (
        # Staff search clients by any part of name, e-mail or phone: trigram-indexed on
        # PostgreSQL (``LIKE '%…%'`` uses it), a plain index on SQLite.
        Index(
            "ix_user_account_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        Index("ix_user_account_search_text", "search_text", "id"),
    )

    #: The sign-in address, normalised and lower-cased: unique case-insensitively;
    #: ``None`` for a client without an account.
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(text_enum(Role, "role"), default=Role.CLIENT)
    status: Mapped[AccountStatus] = mapped_column(
        text_enum(AccountStatus, "account_status"), default=AccountStatus.ACTIVE
    )
    #: Only ever an adult's date: a refused (under-18) date is never stored.
    date_of_birth: Mapped[datetime.date | None] = mapped_column(default=None)
    #: ISO 3166-1 alpha-2.
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    email_verified_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    #: Raised to end every session of the user at once (password reset, closing the account).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    # The Profile section: optional contact details and preferences.
    #: E.164, e.g. +14155550123.
    phone: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    postal_address: Mapped[str | None] = mapped_column(String(300), default=None)
    #: IANA, e.g. Europe/Paris.
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    #: ISO 639-1, e.g. fr.
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    notify_reminders_email: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_reminders_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_news: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Raised by every change to the row (SQLAlchemy's ``version_id_col``): a save made
    #: against an older version is refused instead of silently overwriting the newer value.
    profile_version: Mapped[int] = mapped_column(Integer, default=1)

    #: A client without an account: the address staff were given (never a sign-in).
    contact_email: Mapped[str | None] = mapped_column(String(254), default=None, index=True)
    #: Name, e-mail addresses and the phone's digits, folded (:func:`folded`): what the
    #: client directory searches. Kept up to date by the ORM on every insert and update.
    search_text: Mapped[str] = mapped_column(String(SEARCH_TEXT_LENGTH), default="")

    __mapper_args__ = {"version_id_col": profile_version}  # noqa: RUF012 (SQLAlchemy's declaration style)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_account(self) -> bool:
        """Whether the person signs in (a client known only to staff does not)."""
        return self.email is not None

    @hybrid_property
    def address(self) -> str | None:
        """Where e-mail reaches them: the sign-in address, else the one staff were given
        (in a query too: ``User.address``)."""
        return self.email or self.contact_email

    @address.inplace.expression
    @classmethod
    def _address(cls) -> ColumnElement[str | None]:
        return func.coalesce(cls.email, cls.contact_email)

    def searchable(self) -> str:
        parts = (self.name or "", digits(self.phone or ""), self.email or "", self.contact_email or "")
        return folded(" ".join(part for part in parts if part))[:SEARCH_TEXT_LENGTH]


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _keep_search_text(_mapper: Any, _connection: Any, user: User) -> None:
    user.search_text = user.searchable()


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)
    CHANGE_EMAIL = "change_email"
    #: The link in the warning to the old address: "this was not me, stop the change".
    CANCEL_EMAIL_CHANGE = "cancel_email_change"


class AccountToken(Model):
    """A single-use link token. Only its HMAC (keyed with SECRET_KEY) is stored: neither
    a copy of this table nor the key alone lets anyone forge or replay a link.

    A link works only while the account's ``session_epoch`` is the one it was issued
    under: a password change or reset (which raise the epoch) voids every link sent
    before it, whatever its purpose.
    """

    __tablename__ = "account_token"
    __pii_columns__ = frozenset({"email"})
    __table_args__ = (Index("ix_account_token_user_purpose", "user_id", "purpose"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(text_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The address the token proves control of (verification links).
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime.datetime] = mapped_column(index=True)
    used_at: Mapped[datetime.datetime | None] = mapped_column(default=None)
    #: The account's ``session_epoch`` when the link was sent.
    epoch: Mapped[int] = mapped_column(Integer, default=0)
