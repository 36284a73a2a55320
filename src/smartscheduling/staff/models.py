"""What the staff console keeps of its own: staff's notes about a client."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import Model, utcnow


class ClientNote(Model):
    """A staff member's note on a client's record ("prefers mornings", "allergic to …").
    Personal data of the client: exported to them, and gone with them. Its author
    leaving only removes the author's name from it."""

    __tablename__ = "client_note"
    __pii_columns__ = frozenset({"body"})
    __table_args__ = (Index("ix_client_note_client_created", "client_id", "created_at"),)

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
