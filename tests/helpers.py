"""Small helpers for tests that drive the app over HTTP."""

from __future__ import annotations

import asyncio
import html
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.conftest import PASSWORD


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process sends meanwhile, in order; clear the
    list to start counting again."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", count)


_TOKEN = re.compile(r'name="_csrf_token" value="([0-9a-f]+)"')


async def csrf_token(client: Any, path: str = "/login") -> str:
    """Visit a page that has a form and return its CSRF token (the cookie comes along)."""
    match = _TOKEN.search((await client.get(path)).text)
    assert match, f"no CSRF field on {path}"
    return match[1]


async def post_form(
    client: Any, path: str, data: dict[str, str], *, htmx: bool = False, headers: dict[str, str] | None = None
) -> httpx.Response:
    token = client.cookies.get("csrftoken") or await csrf_token(client)
    headers = {**({"hx-request": "true"} if htmx else {}), **(headers or {})}
    return await client.post(path, data={"_csrf_token": token, **data}, headers=headers, follow_redirects=False)


async def sign_in(client: Any, email: str, password: str = PASSWORD, next_page: str = "/") -> httpx.Response:
    await csrf_token(client)
    return await post_form(client, "/login", {"email": email, "password": password, "next": next_page})


def field_errors(page: str) -> dict[str, str]:
    """``{field name: message}`` of every error shown next to a field."""
    found = re.findall(r'id="f-([a-z_]+)-error"><span class="visually-hidden">Error: </span>(.*?)</p>', page)
    return {name: html.unescape(message) for name, message in found}


def form_error(page: str) -> str | None:
    match = re.search(r'id="form-error"[^>]*><p>(.*?)</p>', page)
    return html.unescape(match[1]) if match else None


def is_signed_in(page: str) -> bool:
    return 'action="/logout"' in page


async def run_command(*command: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command (for at most two minutes) without blocking the event loop: the
    in-test SMTP server lives there."""
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        out, err = await process.communicate(stdin.encode() if stdin is not None else None)
    return subprocess.CompletedProcess(command, process.returncode or 0, out.decode(), err.decode())


async def publish(
    engine: Any, kind: Any, text: str, *, significant: bool = False, summary: str = "Clearer wording."
) -> Any:
    """Publish a new version of ``kind`` the way an officer does (draft, save, publish)."""
    import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from smartscheduling.audit.service import SYSTEM
    from smartscheduling.policies.services import PolicyService, revision

    async with AsyncSession(engine, expire_on_commit=False) as session:
        service = PolicyService(session)
        draft = await service.create_draft(kind, actor=SYSTEM)
        saved = await service.save_draft(
            draft.id, text=text, summary=summary, significant=significant,
            effective_on=datetime.datetime.now(datetime.UTC).date(), actor=SYSTEM,
        )  # fmt: skip
        publication = await service.publish(draft.id, previewed=revision(saved), actor=SYSTEM)
    assert publication is not None
    return publication
