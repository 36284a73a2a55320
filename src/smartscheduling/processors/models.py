"""The processor register (``/privacy/processors``)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import AuditedModel


class Processor(AuditedModel):
    """A company that processes personal data on our behalf (hosting, e-mail …)."""

    __tablename__ = "processor"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    purpose: Mapped[str] = mapped_column(String(500))
    data_categories: Mapped[str] = mapped_column(String(500))
    #: Where it processes the data, e.g. "United States (Virginia)".
    location: Mapped[str] = mapped_column(String(200))
    #: How the transfer and processing are protected, e.g. a data processing agreement.
    safeguards: Mapped[str] = mapped_column(String(500))
    website: Mapped[str | None] = mapped_column(String(300), default=None)
