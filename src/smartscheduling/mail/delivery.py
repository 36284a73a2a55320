"""Delivering the outbox: claim due rows, send them, mark each one, retry with back-off.

A row is claimed with one atomic ``UPDATE … RETURNING`` (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), which takes a time-limited lease: several workers never send the same row,
and a worker that dies mid-batch leaves its rows to be taken over when the lease ends.
Each row is marked sent in its own transaction right after the server accepted it, and
its recipient and bodies are erased at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.config import Settings
from smartscheduling.db import utcnow
from smartscheduling.mail.models import OutboxMessage, OutboxStatus

logger = logging.getLogger("smartscheduling.mail")

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 6 * 3600


class TemporaryDeliveryError(Exception):
    """Try again later (4xx reply, connection trouble)."""


class PermanentDeliveryError(Exception):
    """Do not try again (5xx reply: the address or the message is refused)."""


class Sender(Protocol):
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """SMTP over aiosmtplib: ``smtp://user:pass@host:587`` (STARTTLS when offered) or
    ``smtps://user:pass@host:465`` (TLS from the start). One connection per batch."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        client = aiosmtplib.SMTP(
            hostname=self.hostname, port=self.port, use_tls=self.implicit_tls, timeout=self.timeout
        )
        try:
            await client.connect()
            if self.username:
                await client.login(self.username, self.password or "")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryDeliveryError(f"cannot connect to the mail server: {type(exc).__name__}") from exc
        self._client = client
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._client is not None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await self._client.quit()
            self._client = None

    async def send(self, message: EmailMessage) -> None:
        assert self._client is not None, "use the sender as an async context manager"
        try:
            await self._client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            failure = PermanentDeliveryError if all(code >= 500 for code in codes) else TemporaryDeliveryError
            raise failure(f"recipient refused ({', '.join(map(str, codes))})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            failure = PermanentDeliveryError if exc.code >= 500 else TemporaryDeliveryError
            raise failure(f"server answered {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryDeliveryError(f"sending failed: {type(exc).__name__}") from exc


class FileSender:
    """Development without ``SMTP_URL``: each message becomes ``var/mail/<time>-<id>.eml``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def __aenter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def send(self, message: EmailMessage) -> None:
        message_id = message["Message-ID"].strip("<>").split("@")[0]
        path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{message_id}.eml"
        path.write_bytes(bytes(message))
        logger.info("mail written", extra={"fields": {"path": str(path)}})


def sender_for(settings: Settings) -> Sender:
    if settings.smtp_url:
        return SmtpSender(settings.smtp_url)
    return FileSender(settings.var_dir / "mail")


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    to_address: str
    subject: str
    body_text: str
    body_html: str | None
    calendar: str | None
    attempts: int


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def build_message(row: Claimed, mail_from: str) -> EmailMessage:
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "smartscheduling.com"
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(utcnow())
    # Stable per outbox row: should a message ever be delivered twice, mail clients
    # recognise the copy.
    message["Message-ID"] = f"<{row.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    if row.calendar:
        # The METHOD inside (REQUEST, CANCEL) is repeated on the part, as iTIP's e-mail binding asks.
        method = "CANCEL" if "\r\nMETHOD:CANCEL\r\n" in row.calendar else "REQUEST"
        message.add_attachment(row.calendar, subtype="calendar", filename="appointment.ics", params={"method": method})
    return message


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … doubling up to 6 h, with ±10 % jitter so retries spread out."""
    seconds = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))  # noqa: S311 (not cryptographic)


async def claim(engine: AsyncEngine, limit: int = BATCH_SIZE, lease: timedelta = LEASE) -> list[Claimed]:
    now = utcnow()
    free = or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now, free)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), free)
        .values(locked_until=now + lease, attempts=OutboxMessage.attempts + 1, updated_at=now)
        .returning(
            OutboxMessage.id,
            OutboxMessage.to_address,
            OutboxMessage.subject,
            OutboxMessage.body_text,
            OutboxMessage.body_html,
            OutboxMessage.calendar,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    async with engine.begin() as connection:
        rows = (await connection.execute(statement)).all()
    return [Claimed(*row) for row in rows]


async def _finish(engine: AsyncEngine, row: Claimed, **values: object) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(locked_until=None, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )


async def _mark_sent(engine: AsyncEngine, row: Claimed) -> None:
    await _finish(
        engine, row, status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None,
        to_address=None, body_text=None, body_html=None, calendar=None,
    )  # fmt: skip


async def _mark_failed(engine: AsyncEngine, row: Claimed, reason: str, *, permanent: bool) -> bool:
    """Record a failed attempt; ``True`` when the row will be retried."""
    if permanent or row.attempts >= MAX_ATTEMPTS:
        await _finish(engine, row, status=OutboxStatus.FAILED, last_error=reason[:500])
        return False
    await _finish(engine, row, next_attempt_at=utcnow() + retry_delay(row.attempts), last_error=reason[:500])
    return True


async def _record_failure(engine: AsyncEngine, row: Claimed, exc: Exception, report: DeliveryReport) -> None:
    if await _mark_failed(engine, row, str(exc), permanent=isinstance(exc, PermanentDeliveryError)):
        report.retrying += 1
    else:
        report.failed += 1
    logger.warning(
        "mail not delivered",
        extra={"fields": {"outbox_id": str(row.id), "reason": str(exc), "attempt": row.attempts}},
    )


async def release(engine: AsyncEngine, rows: list[Claimed]) -> None:
    """Hand claimed rows back unsent, as if never claimed: free at once, no attempt counted."""
    if not rows:
        return
    async with engine.begin() as connection:
        await connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(locked_until=None, attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )


async def deliver_due(
    engine: AsyncEngine,
    sender: Sender,
    *,
    mail_from: str,
    batch_size: int = BATCH_SIZE,
    lease: timedelta = LEASE,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """Send every message that is due now, batch after batch; returns what happened.

    Once ``stop`` is set, the message in hand is finished (sent and marked, or its failure
    recorded) and the rest of the batch is released for the next worker, unsent."""
    report = DeliveryReport()
    stopping = stop.is_set if stop is not None else lambda: False
    while not stopping() and (batch := await claim(engine, batch_size, lease)):
        pending = list(batch)
        try:
            async with sender:
                while pending and not stopping():
                    row = pending[0]
                    try:
                        await sender.send(build_message(row, mail_from))
                    except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
                        await _record_failure(engine, row, exc, report)
                    else:
                        await _mark_sent(engine, row)
                        report.sent += 1
                    pending.pop(0)
        except TemporaryDeliveryError as exc:  # no connection at all: the rest of the batch waits
            for row in pending:
                await _record_failure(engine, row, exc, report)
            break
        await release(engine, pending)
    return report
