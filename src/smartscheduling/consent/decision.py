"""A visitor's consent decision as the consent cookie carries it, and what it allows now.

The cookie holds the decision itself, signed with the secret key, so every request can
be judged without a database read while the database keeps the append-only proof
(``ConsentRecord``). A forged, altered or malformed cookie is no decision at all: the
visitor is simply asked again, and nothing optional is allowed meanwhile.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

from litestar.datastructures import Cookie
from litestar.types import Scope

from smartscheduling.config import Settings
from smartscheduling.consent.registry import Category, cookie_name

FORMAT = "1"
_CONSENT_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_FLAGS = re.compile(r"p?a?g?")
_DIGITS = re.compile(r"[0-9]{1,12}")
_STATE_KEY = "consent"


def new_consent_id() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits, 22 characters


def max_age(settings: Settings) -> datetime.timedelta:
    return datetime.timedelta(days=round(settings.consent_max_age_months * 365.25 / 12))


@dataclass(frozen=True)
class Decision:
    consent_id: str
    policy_version: int
    preferences: bool
    analytics: bool
    #: Analytics was switched on explicitly while the browser sent Global Privacy Control.
    analytics_despite_gpc: bool
    decided_at: datetime.datetime

    def encode(self, secret: str) -> str:
        flags = "p" * self.preferences + "a" * self.analytics + "g" * self.analytics_despite_gpc
        body = f"{FORMAT}.{self.consent_id}.{self.policy_version}.{flags}.{int(self.decided_at.timestamp())}"
        return f"{body}.{_mac(secret, body)}"

    @classmethod
    def decode(cls, value: str, secret: str) -> Decision | None:
        """The decision a cookie carries, or None for anything we did not sign (never raises)."""
        parts = value.split(".")
        if not value.isascii() or len(parts) != 6 or parts[0] != FORMAT:
            return None
        _, consent_id, version, flags, decided, mac = parts
        if not hmac.compare_digest(mac.encode(), _mac(secret, value.rsplit(".", 1)[0]).encode()):
            return None
        if not (_CONSENT_ID.fullmatch(consent_id) and _FLAGS.fullmatch(flags) and _DIGITS.fullmatch(version)):
            return None
        if not _DIGITS.fullmatch(decided):
            return None
        try:
            decided_at = datetime.datetime.fromtimestamp(int(decided), datetime.UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return cls(
            consent_id=consent_id,
            policy_version=int(version),
            preferences="p" in flags,
            analytics="a" in flags,
            analytics_despite_gpc="g" in flags,
            decided_at=decided_at,
        )

    def grants(self, category: Category, *, gpc: bool) -> bool:
        if category is Category.NECESSARY:
            return True
        if category is Category.PREFERENCES:
            return self.preferences
        return self.analytics and (self.analytics_despite_gpc or not gpc)

    def without_analytics(self) -> Decision:
        """The same decision with analytics refused. It keeps its date: withdrawing one
        category must not extend the others past the re-consent age."""
        return replace(self, analytics=False, analytics_despite_gpc=False)

    def remaining(self, settings: Settings) -> datetime.timedelta:
        """How long until it must be asked again (what cookies depending on it may live)."""
        left = self.decided_at + max_age(settings) - datetime.datetime.now(datetime.UTC)
        return max(left, datetime.timedelta(0))


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(f"consent\0{secret}".encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


@dataclass(frozen=True)
class ConsentState:
    """What a request may do. ``decision`` is the visitor's current decision, or None
    when there is none, it is unreadable, older than the re-consent age or given under
    an earlier cookie-policy version (``outdated`` says which of the last two)."""

    decision: Decision | None
    gpc: bool
    #: A decision was there but must be asked again (policy version changed or too old).
    outdated: bool = False
    #: The id to keep for the next decision (the old one when re-asking, so a receipt
    #: lists the whole history).
    consent_id: str | None = None

    @property
    def needs_decision(self) -> bool:
        return self.decision is None

    def allows(self, category: Category) -> bool:
        if category is Category.NECESSARY:
            return True
        return self.decision is not None and self.decision.grants(category, gpc=self.gpc)

    @property
    def gpc_overrides_analytics(self) -> bool:
        """GPC arrived after analytics was allowed without it: analytics is refused now,
        and the change is recorded once (``ConsentMiddleware``)."""
        d = self.decision
        return self.gpc and d is not None and d.analytics and not d.analytics_despite_gpc


def read_state(headers: Any, cookies: dict[str, str], settings: Settings, policy_version: int) -> ConsentState:
    gpc = headers.get("sec-gpc", "").strip() == "1"
    raw = cookies.get(cookie_name("consent", settings))
    decision = Decision.decode(raw, settings.secret_key) if raw else None
    if decision is None:
        return ConsentState(decision=None, gpc=gpc)
    now = datetime.datetime.now(datetime.UTC)
    if decision.policy_version != policy_version or now - decision.decided_at > max_age(settings):
        return ConsentState(decision=None, gpc=gpc, outdated=True, consent_id=decision.consent_id)
    if decision.decided_at > now + datetime.timedelta(minutes=5):
        return ConsentState(decision=None, gpc=gpc)  # from the future: not ours to trust
    return ConsentState(decision=decision, gpc=gpc, consent_id=decision.consent_id)


def consent_cookie(decision: Decision, settings: Settings) -> Cookie:
    """The strictly-necessary cookie that carries the decision (``HttpOnly``: no script
    needs it)."""
    return Cookie(
        key=cookie_name("consent", settings),
        value=decision.encode(settings.secret_key),
        max_age=int(decision.remaining(settings).total_seconds()),
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )


#: No decision (yet): what a request the firewall did not read (or a first visit) may do.
UNDECIDED = ConsentState(decision=None, gpc=False)


def state_of(scope: Scope) -> ConsentState:
    """The consent in force for this request, as the cookie firewall read it."""
    return scope.get("state", {}).get(_STATE_KEY) or UNDECIDED


def remember_state(scope: Scope, state: ConsentState) -> None:
    scope.setdefault("state", {})[_STATE_KEY] = state
