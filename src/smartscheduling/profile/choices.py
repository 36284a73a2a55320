"""The lists people choose from in their profile: time zones and languages."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")

#: ISO 639-1 code → the language's own name. Communication preference: the business
#: writes to you in it where it can; the site itself is in English.
LANGUAGES: dict[str, str] = {
    "ar": "العربية (Arabic)",
    "bn": "বাংলা (Bengali)",
    "cs": "Čeština (Czech)",
    "da": "Dansk (Danish)",
    "de": "Deutsch (German)",
    "el": "Ελληνικά (Greek)",
    "en": "English",
    "es": "Español (Spanish)",
    "fa": "فارسی (Persian)",
    "fi": "Suomi (Finnish)",
    "fr": "Français (French)",
    "he": "עברית (Hebrew)",
    "hi": "हिन्दी (Hindi)",
    "hu": "Magyar (Hungarian)",
    "id": "Bahasa Indonesia (Indonesian)",
    "it": "Italiano (Italian)",
    "ja": "日本語 (Japanese)",
    "ko": "한국어 (Korean)",
    "nl": "Nederlands (Dutch)",
    "no": "Norsk (Norwegian)",
    "pl": "Polski (Polish)",
    "pt": "Português (Portuguese)",
    "ro": "Română (Romanian)",
    "ru": "Русский (Russian)",
    "sv": "Svenska (Swedish)",
    "sw": "Kiswahili (Swahili)",
    "th": "ไทย (Thai)",
    "tl": "Tagalog",
    "tr": "Türkçe (Turkish)",
    "uk": "Українська (Ukrainian)",
    "ur": "اردو (Urdu)",
    "vi": "Tiếng Việt (Vietnamese)",
    "zh": "中文 (Chinese)",
}


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
