"""Server-side sessions, stricter than Litestar's stock backend.

Litestar's ``ServerSideSessionBackend`` stores a row and sets a cookie for every visitor
(an empty session is still written), keeps whatever id the cookie carries, and uses
the cookie value as the store key. This backend:

* stores nothing and sets no cookie until a session holds data — an anonymous visitor
  gets no session cookie at all; a session emptied (logout, flash shown) is deleted;
* gives the session a new id when asked (:func:`rotate_session`, at login), deleting
  the old one, so a planted session id is worthless (session fixation);
* keys the store by SHA-256 of the id: a copy of the store hands out no live sessions;
* ends a session after ``idle_timeout`` without a request and ``absolute_lifetime``
  after it began, whatever the activity;
* writes to the store only when the data changed, or once a minute to slide the idle
  window — not on every request;
* keeps, per owner (the signed-in user), an index of their sessions, so that
  :func:`end_sessions_of` deletes every one of them (password change, closing the
  account) on any store, database or Redis.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from advanced_alchemy.extensions.litestar.store import SQLAlchemyStore
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

_ROTATE = "session_rotate"
_LOADED = "session_loaded"
_META = "_meta"
_VALID_ID = re.compile(r"[0-9a-f]{64}")
SLIDE_EVERY_SECONDS = 60
#: The most sessions one person's index remembers (older ones still expire on their own).
MAX_INDEXED_SESSIONS = 50


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Give the current session a new id when the response is sent (call at login)."""
    connection.scope.setdefault("state", {})[_ROTATE] = True


@dataclass(frozen=True, slots=True)
class _Loaded:
    session_id: str
    data: bytes  # serialised application data, to tell whether it changed
    born: int
    seen: int
    owner: str | None


def _store_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _index_key(owner: str) -> str:
    return "owner:" + hashlib.sha256(owner.encode()).hexdigest()


async def _update_index(
    store: Store, owner: str, *, add: str | None = None, remove: str | None = None, lifetime: int
) -> None:
    raw = await store.get(_index_key(owner))
    keys: list[str] = json.loads(raw) if raw else []
    keys = [key for key in keys if key != remove]
    if add and add not in keys:
        keys = [*keys, add][-MAX_INDEXED_SESSIONS:]
    if keys:
        await store.set(_index_key(owner), json.dumps(keys), expires_in=lifetime)
    else:
        await store.delete(_index_key(owner))


async def end_sessions_of(store: Store, owner: str) -> None:
    """Delete every session the owner has, on every device."""
    raw = await store.get(_index_key(owner))
    for key in json.loads(raw) if raw else []:
        await store.delete(key)
    await store.delete(_index_key(owner))


class SessionBackend(ServerSideSessionBackend):
    config: SessionConfig

    def _owner(self, data: Any) -> str | None:
        owner = data.get(self.config.owner_key) if self.config.owner_key and isinstance(data, dict) else None
        return str(owner) if owner else None

    def _cookie(self, value: str, **overrides: Any) -> str:
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        params |= overrides
        return Cookie(key=self.config.key, value=value, **params).to_header(header="")

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        session_id = connection.cookies.get(self.config.key, "")
        if not _VALID_ID.fullmatch(session_id):
            return {}
        store = self.config.get_store_from_app(connection.scope["app"])
        raw = await store.get(_store_key(session_id))
        if raw is None:
            return {}
        data = self.deserialize_data(raw)
        meta = data.pop(_META, None) or {}
        now = int(time.time())
        born, seen = int(meta.get("born", 0)), int(meta.get("seen", 0))
        if now - seen > self.config.idle_timeout or now - born > self.config.absolute_lifetime:
            return {}  # expired: the stale entry is deleted when the response goes out
        connection.scope.setdefault("state", {})[_LOADED] = _Loaded(
            session_id, self.serialize_data(data, connection.scope), born, seen, self._owner(data)
        )
        return data

    async def store_in_message(
        self, scope_session: ScopeSession | None, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        state = connection.scope.setdefault("state", {})
        loaded: _Loaded | None = state.get(_LOADED)
        cookie_id = connection.cookies.get(self.config.key, "")
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)

        lifetime = self.config.absolute_lifetime
        if scope_session is Empty or not scope_session:
            if cookie_id:
                if _VALID_ID.fullmatch(cookie_id):
                    await store.delete(_store_key(cookie_id))
                if loaded and loaded.owner:
                    await _update_index(store, loaded.owner, remove=_store_key(loaded.session_id), lifetime=lifetime)
                headers.add("Set-Cookie", self._cookie("", max_age=0, expires=0))
            return

        now = int(time.time())
        data = self.serialize_data(scope_session, connection.scope)
        rotate = state.pop(_ROTATE, False)
        owner = self._owner(scope_session)
        if loaded is None or rotate:
            if loaded is not None:
                await store.delete(_store_key(loaded.session_id))
                if loaded.owner:
                    await _update_index(store, loaded.owner, remove=_store_key(loaded.session_id), lifetime=lifetime)
            session_id, born = self.generate_session_id(), now
            if owner:
                await _update_index(store, owner, add=_store_key(session_id), lifetime=lifetime)
        else:
            session_id, born = loaded.session_id, loaded.born
            if data == loaded.data and now - loaded.seen < SLIDE_EVERY_SECONDS:
                return  # nothing changed and the idle window is fresh enough
        payload = self.serialize_data({**scope_session, _META: {"born": born, "seen": now}}, connection.scope)
        await store.set(_store_key(session_id), payload, expires_in=self.config.idle_timeout)
        if session_id != cookie_id or loaded is None:
            headers.add("Set-Cookie", self._cookie(session_id))


@dataclass
class SessionConfig(ServerSideSessionConfig):
    """``max_age`` is the cookie's life (the absolute lifetime); the store entry lives
    ``idle_timeout`` seconds past the last write."""

    _backend_class = SessionBackend  # type: ignore[assignment]
    idle_timeout: int = field(default=3600)
    absolute_lifetime: int = field(default=12 * 3600)
    #: The session-data key that names the session's owner (for :func:`end_sessions_of`).
    owner_key: str | None = field(default=None)


class SessionStore(SQLAlchemyStore):
    """advanced-alchemy's store, reading in one round trip: a session is read on every
    signed-in request, and one ``SELECT`` of one row needs no transaction around it (the
    stock ``get`` wraps it in ``BEGIN``/``COMMIT``). Writes, rare (a change, or the idle
    window sliding once a minute), stay as they are."""

    _reading: Select[tuple[bytes]] | None = None
    _reader: AsyncEngine | None = None

    async def get(self, key: str, renew_for: int | datetime.timedelta | None = None) -> bytes | None:
        if renew_for is not None:
            return await super().get(key, renew_for)
        if self._reading is None:  # built once: building it cost more than the read itself
            model = self._model
            self._reading = select(model.value).where(
                model.key == bindparam("key"),
                model.namespace == self.namespace,
                model.expires_at.is_(None) | (model.expires_at > bindparam("now")),
            )
            self._reader = self._config.get_engine().execution_options(isolation_level="AUTOCOMMIT")
        async with self._reader.connect() as connection:  # type: ignore[union-attr]
            found = await connection.execute(self._reading, {"key": key, "now": datetime.datetime.now(datetime.UTC)})
            return found.scalar_one_or_none()
