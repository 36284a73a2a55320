"""The export (right of access): a ZIP of ``data.json`` and ``data.html``, streamed.

Rows are read in batches and written straight into the ZIP as it goes out, so memory
stays flat however long a person's history grows. Everything comes from the registry
in ``smartscheduling.personal_data``.
"""

from __future__ import annotations

import datetime
import uuid
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.config import SITE_NAME
from smartscheduling.personal_data import Erasure, Holding, Registry

SCHEMA_VERSION = 1
BATCH = 500
FLUSH_AT = 64 * 1024


class _Sink:
    """A write-only file for ``zipfile`` whose bytes are handed out as they accumulate."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pending = 0
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._pending += len(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    @property
    def full(self) -> bool:
        return self._pending >= FLUSH_AT

    def drain(self) -> bytes:
        data, self._parts, self._pending = b"".join(self._parts), [], 0
        return data


def _encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


async def _rows(session: AsyncSession, holding: Holding, person: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
    model = holding.model
    statement = (
        select(*model.__table__.columns)  # every column: ``derived`` may read withheld ones
        .where(holding.belongs_to(person))
        .order_by(getattr(model, holding.order_by))
        .execution_options(yield_per=BATCH)
    )
    async for row in await session.stream(statement):
        values = row._mapping
        exported = {name: values[name] for name in holding.shown}
        if holding.derived is not None:
            exported |= holding.derived(row, person)
        yield exported


def _label(column: str) -> str:
    return column.replace("_", " ").capitalize()


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dict | list):
        return _encode(value).decode()
    return str(value)


def _what_happens(holding: Holding) -> str:
    if holding.erasure is Erasure.DELETE:
        return "When you close your account, this is deleted."
    return f"When you close your account, this is anonymized: {holding.kept_because}"


async def export_archive(engine: AsyncEngine, registry: Registry, person: uuid.UUID, name: str) -> AsyncIterator[bytes]:
    """Yield the ZIP's bytes. Uses its own database session: a request's session closes
    as soon as the response starts, while this one lasts as long as the download."""
    exported_at = datetime.datetime.now(datetime.UTC)
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED)
    async with AsyncSession(engine) as session:
        with archive.open("data.json", "w", force_zip64=True) as entry:
            entry.write(
                b'{"schema_version":%d,"exported_at":%s,"service":%s,"person":%s,"sections":{'
                % (SCHEMA_VERSION, _encode(exported_at), _encode(SITE_NAME), _encode(str(person)))
            )
            for index, holding in enumerate(registry.holdings):
                about = {"title": holding.title, "purpose": holding.purpose, "on_closure": _what_happens(holding)}
                # `{"title":…,"on_closure":…` then `,"rows":[` and the rows, streamed, then `]}`
                opening = _encode(about)[:-1] + b',"rows":['
                entry.write((b"," if index else b"") + _encode(holding.key) + b":" + opening)
                first = True
                async for row in _rows(session, holding, person):
                    entry.write((b"" if first else b",") + _encode(row))
                    first = False
                    if sink.full:
                        yield sink.drain()
                entry.write(b"]}")
            entry.write(b"}}")
        yield sink.drain()

        with archive.open("data.html", "w", force_zip64=True) as entry:
            entry.write(
                (
                    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                    f"<title>Your data at {escape(SITE_NAME)}</title></head><body>\n"
                    f"<h1>Everything {escape(SITE_NAME)} holds about {escape(name)}</h1>\n"
                    f"<p>Exported {_cell(exported_at)}. The same data, machine-readable, is in data.json.</p>\n"
                ).encode()
            )
            for holding in registry.holdings:
                columns = [*holding.shown, *holding.derived_columns]
                entry.write(
                    (
                        f"<section><h2>{escape(holding.title)}</h2><p>{escape(holding.purpose)}</p>"
                        f"<p>{escape(_what_happens(holding))}</p>\n<table><thead><tr>"
                        + "".join(f"<th>{escape(_label(c))}</th>" for c in columns)
                        + "</tr></thead><tbody>\n"
                    ).encode()
                )
                async for row in _rows(session, holding, person):
                    cells = "".join(f"<td>{escape(_cell(row.get(c)))}</td>" for c in columns)
                    entry.write(f"<tr>{cells}</tr>\n".encode())
                    if sink.full:
                        yield sink.drain()
                withheld = "".join(
                    f"<li>{escape(_label(c))}: {escape(reason)}</li>" for c, reason in holding.withheld.items()
                )
                entry.write(f"</tbody></table><p>Not included:</p><ul>{withheld}</ul></section>\n".encode())
            entry.write(b"</body></html>\n")
    archive.close()
    yield sink.drain()
