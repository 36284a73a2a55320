"""Refusals: the domain saying no, as exceptions named ``…Error``.

Services raise them with sentences written for the person (``problems``: form field →
sentence, ``FORM`` for the whole form). What a refusal means on the web is decided in one
place, ``web/errors.py``: its kind gives the status, a form shows its sentences next to
their fields, and one no handler catches becomes an error page with its sentence.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import ClassVar

#: The key of a sentence about the whole form rather than one field.
FORM = "__all__"


class Refusal(enum.Enum):
    #: What was sent breaks a rule (a wrong password, a draft that cannot be published).
    INVALID = "invalid"
    #: What it would change changed meanwhile, or is taken by another.
    CONFLICT = "conflict"
    #: Too many attempts for now; ``retry_after_seconds`` says when to try again.
    TOO_MANY = "too_many"


class RefusedError(Exception):
    """A rule of the domain refused the request; nothing was changed by it."""

    kind: ClassVar[Refusal] = Refusal.INVALID
    #: The form field the default sentence belongs to (``FORM``: the whole form).
    field: ClassVar[str] = FORM
    sentence: ClassVar[str] = "That cannot be done."

    def __init__(self, sentence: str | None = None, *, problems: Mapping[str, str] | None = None) -> None:
        self.problems: dict[str, str] = dict(problems) if problems else {self.field: sentence or self.sentence}
        self.retry_after_seconds: int | None = None
        super().__init__("; ".join(self.problems.values()))
