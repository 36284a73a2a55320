"""ISO 3166-1 countries for the sign-up form (from the iso3166 package)."""

from __future__ import annotations

from functools import lru_cache

import iso3166

UNITED_STATES = "US"


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str], ...]:
    """``(alpha-2 code, name)`` pairs sorted by name, the United States first."""
    ordered = sorted(((c.alpha2, c.apolitical_name) for c in iso3166.countries), key=lambda pair: pair[1])
    us = next(pair for pair in ordered if pair[0] == UNITED_STATES)
    return (us, *(pair for pair in ordered if pair[0] != UNITED_STATES))


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries())


def country_name(code: str | None) -> str:
    return dict(countries()).get(code or "", code or "")
