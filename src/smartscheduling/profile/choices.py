"""The languages people choose from in their profile (time zones: ``web/choices.py``)."""

from __future__ import annotations

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
