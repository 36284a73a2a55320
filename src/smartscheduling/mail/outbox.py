"""Queue an e-mail: render it from ``templates/mail/<kind>.txt`` (first line ``Subject: …``)
and ``templates/mail/<kind>.html`` and add it to the outbox in the caller's transaction."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.config import CONTACT_EMAIL, SITE_NAME, TEMPLATES_DIR
from smartscheduling.mail.models import OutboxMessage


@lru_cache(maxsize=1)
def mail_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "mail"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(site_name=SITE_NAME, contact_email=CONTACT_EMAIL)
    return env


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """``(subject, text, html)`` of one e-mail."""
    env = mail_templates()
    text = env.get_template(f"{kind}.txt").render(context)
    first_line, _, body = text.partition("\n")
    if not first_line.startswith("Subject: "):
        msg = f"mail/{kind}.txt must start with a 'Subject: ' line"
        raise ValueError(msg)
    html = env.get_template(f"{kind}.html").render(context)
    return first_line.removeprefix("Subject: ").strip(), body.lstrip("\n"), html


def enqueue(
    session: AsyncSession,
    kind: str,
    *,
    to: str,
    context: dict[str, Any],
    user_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    calendar: str | None = None,
) -> OutboxMessage:
    subject, text, html = render(kind, context)
    message = OutboxMessage(
        kind=kind,
        user_id=user_id,
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        dedupe_key=dedupe_key,
        calendar=calendar,
    )
    session.add(message)
    return message
