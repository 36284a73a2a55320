"""Form input of the staff console."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from smartscheduling.accounts.schemas import Email

ONE_CONTACT = "Give at least a name, a phone number or an e-mail address."


class ClientForm(msgspec.Struct, kw_only=True):
    """A client's record as staff keep it; ``version`` guards an edit (``0``: new)."""

    version: Annotated[int, Meta(ge=0, extra={"message": "This form is out of date: reload the page."})] = 0
    name: Annotated[str, Meta(title="Name", max_length=100)] = ""
    phone: Annotated[str, Meta(title="Phone number", max_length=32)] | None = None
    email: Email | None = None

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        given = [values[name] for name in ("name", "phone", "email") if name in values]
        if len(given) == 3 and not any(given):  # (a field that failed its own check says so itself)
            return {"name": ONE_CONTACT}
        return {}


class NoteForm(msgspec.Struct, kw_only=True):
    body: Annotated[str, Meta(title="Note", min_length=1, max_length=2000, extra={"multiline": True})]


def reason_field(required: str) -> Any:
    """A reason for the audit log: a few lines, at most 500 characters."""
    return Annotated[
        str, Meta(title="Reason", min_length=1, max_length=500, extra={"multiline": True, "required": required})
    ]


class ErasureForm(msgspec.Struct, kw_only=True):
    """Why a client is anonymized or deleted, and the confirmation it cannot be undone."""

    reason: reason_field("Say why, for the audit log (e.g. “asked by phone”).")
    confirm: bool = False

    @staticmethod
    def check(values: dict[str, Any]) -> dict[str, str]:
        return {} if values.get("confirm") else {"confirm": "Tick the box to confirm: this cannot be undone."}


class ErasureRequestForm(msgspec.Struct, kw_only=True):
    how: Annotated[str, Meta(pattern="^(anonymize|delete)$", extra={"message": "Choose anonymize or delete."})]
    reason: reason_field("Say why, so the privacy officer can act on it.")


class MarkForm(msgspec.Struct, kw_only=True):
    version: Annotated[int, Meta(ge=1, extra={"message": "This page is out of date: reload it."})]
    status: Annotated[
        str, Meta(pattern="^(booked|arrived|completed|no_show)$", extra={"message": "Choose one of the buttons."})
    ]


class VersionForm(msgspec.Struct, kw_only=True):
    version: Annotated[int, Meta(ge=1, extra={"message": "This page is out of date: reload it."})]
