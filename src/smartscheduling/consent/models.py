"""Proof of consent, and the aggregate page-view counts analytics consent allows."""

from __future__ import annotations

import datetime
import enum
import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import Model, NaturalKeyModel, text_enum, utcnow


class ConsentMethod(enum.StrEnum):
    ACCEPT_ALL = "accept-all"
    REJECT_ALL = "reject-all"
    CUSTOM = "custom"
    #: Analytics withdrawn because the browser sent Global Privacy Control.
    GPC = "gpc"


METHOD_LABELS = {
    ConsentMethod.ACCEPT_ALL: "Accept all",
    ConsentMethod.REJECT_ALL: "Reject all",
    ConsentMethod.CUSTOM: "Own choice",
    ConsentMethod.GPC: "Global Privacy Control signal",
}


def consent_method_label(method: ConsentMethod | str) -> str:
    return METHOD_LABELS.get(ConsentMethod(method), str(method))


class ConsentRecord(Model):
    """One decision, never updated: a change of mind is a new row. No IP address, no
    browser fingerprint: the random ``consent_id`` (also in the visitor's consent cookie)
    ties a visitor's decisions together, and ``user_id`` once they sign in."""

    __tablename__ = "consent_record"
    __pii_columns__ = frozenset({"consent_id"})

    consent_id: Mapped[str] = mapped_column(String(22), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, default=None
    )
    decided_at: Mapped[datetime.datetime] = mapped_column(default=utcnow)
    policy_version: Mapped[int] = mapped_column(Integer)
    method: Mapped[ConsentMethod] = mapped_column(text_enum(ConsentMethod, "consent_method", length=16))
    preferences: Mapped[bool]
    analytics: Mapped[bool]
    #: The browser sent ``Sec-GPC: 1`` with this decision.
    gpc: Mapped[bool]


class PageViewCount(NaturalKeyModel):
    """Page views per day and route, counted only for visitors who allowed analytics.
    The route is the template (``/privacy``), never a raw path: nothing per person,
    no tokens from links."""

    __tablename__ = "page_view_count"

    day: Mapped[datetime.date] = mapped_column(primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
