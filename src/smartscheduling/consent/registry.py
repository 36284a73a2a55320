"""Every cookie the application can set, declared once.

The cookie firewall (``firewall.py``) lets a ``Set-Cookie`` through only when its cookie
is declared here and the visitor consented to its category; ``/cookies`` renders this
table. To add a cookie: declare it in :data:`COOKIES` (name without the ``__Host-``
prefix, which production adds), give it the category that matches its purpose, and set
it with :func:`cookie_name` — the tests fail on any cookie set that is not declared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smartscheduling.config import Settings

HOST_PREFIX = "__Host-"


class Category(enum.StrEnum):
    NECESSARY = "necessary"
    PREFERENCES = "preferences"
    ANALYTICS = "analytics"

    @property
    def title(self) -> str:
        return CATEGORY_TEXT[self][0]

    @property
    def description(self) -> str:
        return CATEGORY_TEXT[self][1]


#: The categories a visitor chooses; ``necessary`` is always on.
OPTIONAL = (Category.PREFERENCES, Category.ANALYTICS)

CATEGORY_TEXT = {
    Category.NECESSARY: (
        "Strictly necessary",
        "Keep you signed in, protect forms against forgery and remember your cookie choices. "
        "The site cannot work without them, so they are always on.",
    ),
    Category.PREFERENCES: (
        "Preferences",
        "Remember display choices you make without an account, such as a larger text size.",
    ),
    Category.ANALYTICS: (
        "Analytics",
        "Let us count page views: per day and page only, on our own server, never per person and never "
        "shared. No cookie is needed for it; your choice is kept in the consent cookie.",
    ),
}


@dataclass(frozen=True)
class CookieDeclaration:
    name: str
    category: Category
    purpose: str
    #: In words; ``{months}`` stands for the re-consent age (``CONSENT_MAX_AGE_MONTHS``).
    lifetime: str
    first_party: bool = True


COOKIES: tuple[CookieDeclaration, ...] = (
    CookieDeclaration(
        name="session",
        category=Category.NECESSARY,
        purpose="Keeps you signed in. Set only when you sign in; holds a random id, nothing else.",
        lifetime="Until you sign out, after 60 minutes without activity, or 12 hours at most",
    ),
    CookieDeclaration(
        name="csrftoken",
        category=Category.NECESSARY,
        purpose="Protects forms against cross-site request forgery: a random token each form must repeat.",
        lifetime="Until you close the browser",
    ),
    CookieDeclaration(
        name="consent",
        category=Category.NECESSARY,
        purpose=(
            "Remembers your cookie choices and the random consent id that links them to our record of "
            "your decision (your consent receipt)."
        ),
        lifetime="{months} months (then we ask again)",
    ),
    CookieDeclaration(
        name="display",
        category=Category.PREFERENCES,
        purpose="Remembers the text size you chose without signing in.",
        lifetime="{months} months, or until you withdraw consent to preference cookies",
    ),
)

_BY_NAME = {cookie.name: cookie for cookie in COOKIES}


def declared(name: str) -> CookieDeclaration | None:
    """The declaration of a cookie as it appears on the wire (with or without ``__Host-``)."""
    return _BY_NAME.get(name.removeprefix(HOST_PREFIX))


def cookie_name(name: str, settings: Settings) -> str:
    """The name a declared cookie carries: ``__Host-`` prefixed (Secure, host-only, path
    ``/``) in production."""
    if name not in _BY_NAME:
        msg = f"cookie {name!r} is not declared in smartscheduling.consent.registry.COOKIES"
        raise LookupError(msg)
    return f"{HOST_PREFIX}{name}" if settings.is_production else name
