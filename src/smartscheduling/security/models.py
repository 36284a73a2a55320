"""Tables behind the shared stores: server-side sessions and login throttling."""

from __future__ import annotations

import datetime

from advanced_alchemy.extensions.litestar.store import StoreModelMixin
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartscheduling.db import NaturalKeyModel


class StoreItem(StoreModelMixin):
    """advanced-alchemy's key/value store (Litestar ``Store``): sessions live here unless
    ``REDIS_URL`` is set. Keys are SHA-256 digests of session ids, values JSON."""

    __tablename__ = "store_item"
    # One unique constraint on (key, namespace). The mixin adds a second, identical unique
    # index meant for Spanner only, but Alembic cannot see that condition.
    __table_args__ = (UniqueConstraint("key", "namespace", name="uq_store_item_key_namespace"),)


class ThrottleCounter(NaturalKeyModel):
    """A fixed-window counter, incremented atomically (``INSERT … ON CONFLICT … RETURNING``)."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime.datetime] = mapped_column(index=True)
