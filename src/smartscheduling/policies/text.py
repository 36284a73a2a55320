"""The shipped policy text, split into a title, sections and paragraphs for rendering.

The text is plain: a heading is a short line without closing punctuation; everything
else is a paragraph. Section ids are stable slugs, so other pages can link to
``/privacy#storage-of-personal-information``.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
#: Version 1 of each policy ships with the code (``data/<kind>-v1.txt``) and is published
#: by a migration, as of this moment.
SHIPPED_AT = datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
#: Each shipped text, pinned: version 1 is published and immutable, so a database migrated
#: today must hold the same text as one migrated a year ago. Change a policy by publishing
#: a new version, never by editing its ``-v1.txt``.
SHIPPED_SHA256 = {
    "privacy": "6014960704b6f903e555d44a0fe237546b0f84dc68b9485625c5cded8833cf73",
    "cookies": "0e079d6014f6347eaea2a19f55f5d0fbf2f58df479b29c3ddc6ce3036896f3ac",
    "terms": "8e57fb3a086a0c98b64eee89eb129b0323f764180965e93cb318c310d7605e1f",
}
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


class ShippedTextChangedError(RuntimeError):
    """A version-1 text file no longer matches what was published."""


def shipped_text(kind: str) -> str:
    raw = (DATA_DIR / f"{kind}-v1.txt").read_bytes()
    if hashlib.sha256(raw).hexdigest() != SHIPPED_SHA256[kind]:
        raise ShippedTextChangedError(
            f"data/{kind}-v1.txt differs from the published version 1: publish a new version instead"
        )
    return raw.decode("utf-8")


def shipped_versions() -> list[dict[str, Any]]:
    """The rows of the three version-1 documents, as the migration publishes them."""
    return [
        {
            "kind": kind,
            "number": 1,
            "text": shipped_text(kind),
            "summary": "First published version.",
            "significant": False,
            "effective_on": SHIPPED_AT.date(),
            "published_at": SHIPPED_AT,
        }
        for kind in SHIPPED_SHA256
    ]
