"""What the staff console holds about a person (see ``smartscheduling.personal_data``):
staff's notes on their client record."""

from __future__ import annotations

import uuid
from typing import Any

from smartscheduling.personal_data import INTERNAL, Erasure, Holding
from smartscheduling.staff.models import ClientNote


def _note(note: Any, person: uuid.UUID) -> dict[str, Any]:
    """A note about the person as it is; one they wrote about a client stays that client's."""
    if note.client_id == person:
        return {"written_by": "you" if note.author_id == person else "a staff member"}
    return {"body": "(a note you wrote on a client's record: it is theirs)", "written_by": "you"}


HOLDINGS = (
    Holding(
        key="client_notes",
        title="Staff's notes about you",
        purpose="So that whoever serves you knows what you told us last time (a preference, an allergy).",
        model=ClientNote,
        owners=("client_id", "author_id"),
        shown=("body", "created_at"),
        withheld={
            "id": INTERNAL,
            "sa_orm_sentinel": INTERNAL,
            "client_id": "whom the note is about: you (staff: a client, whose note it is)",
            "author_id": "who wrote it: given as 'written_by'",
        },
        erasure=Erasure.DELETE,
        about="client_id",
        derived=_note,
        derived_columns=("written_by",),
        order_by="created_at",
    ),
)
