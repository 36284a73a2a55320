"""The shipped policy text, split into a title, sections and paragraphs for rendering.

The text is plain: a heading is a short line without closing punctuation; everything
else is a paragraph. Section ids are stable slugs, so other pages can link to
``/privacy#storage-of-personal-information``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
#: Version 1 of each policy ships with the code (``data/<kind>-v1.txt``) and is published
#: by a migration, as of this moment.
SHIPPED_AT = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
SHIPPED_KINDS = ("privacy", "cookies", "terms")
#: The version of the notice non-U.S. users acknowledge at sign-up: their data is
#: transferred to and stored in the U.S.
US_TRANSFER_NOTICE_VERSION = 1
_MAX_HEADING_WORDS = 8


@dataclass(frozen=True, slots=True)
class Section:
    heading: str | None
    anchor: str | None
    paragraphs: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    title: str
    sections: tuple[Section, ...]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _is_heading(line: str) -> bool:
    return len(line.split()) <= _MAX_HEADING_WORDS and not line.endswith((".", ":", "!", "?", ","))


def parse_policy(text: str) -> PolicyDocument:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    title, body = lines[0], lines[1:]
    sections: list[Section] = []
    heading: str | None = None
    paragraphs: list[str] = []
    for line in body:
        if _is_heading(line):
            if heading or paragraphs:
                sections.append(Section(heading, heading and slugify(heading), tuple(paragraphs)))
            heading, paragraphs = line, []
        else:
            paragraphs.append(line)
    sections.append(Section(heading, heading and slugify(heading), tuple(paragraphs)))
    return PolicyDocument(title=title, sections=tuple(sections))


@lru_cache(maxsize=64)
def parse_cached(text: str) -> PolicyDocument:
    """Published versions never change: each is parsed once per process."""
    return parse_policy(text)


def shipped_versions() -> list[dict[str, Any]]:
    """The rows of the three version-1 documents, as the migration publishes them."""
    return [
        {
            "kind": kind,
            "number": 1,
            "text": (DATA_DIR / f"{kind}-v1.txt").read_text(encoding="utf-8"),
            "summary": "First published version.",
            "significant": False,
            "effective_on": SHIPPED_AT.date(),
            "published_at": SHIPPED_AT,
        }
        for kind in SHIPPED_KINDS
    ]
