"""Lists people choose from on more than one page: IANA time zones."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@lru_cache(maxsize=1)
def time_zones() -> dict[str, list[str]]:
    """Canonical IANA zones grouped by region (``Europe/Paris``…), plus ``UTC``."""
    grouped: dict[str, list[str]] = {region: [] for region in REGIONS}
    for name in sorted(zoneinfo.available_timezones()):
        region = name.split("/", 1)[0]
        if region in grouped and "/" in name:
            grouped[region].append(name)
    return {"": ["UTC"], **{region: zones for region, zones in grouped.items() if zones}}


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    return frozenset(zone for zones in time_zones().values() for zone in zones)


def check_time_zone(value: str) -> str:
    """A form field's ``clean``: one of the zones offered."""
    if value not in time_zone_names():
        msg = "Choose a time zone from the list."
        raise ValueError(msg)
    return value
