"""A real SMTP server for tests (aiosmtpd), running in the test event loop."""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None  # e.g. "451 4.3.0 try later" to refuse messages
        #: With ``hold_after`` set, the message after that many is neither accepted nor
        #: refused until ``release`` is set: its sender waits for our answer (and can be
        #: killed while it does). It is then refused, so never counted.
        self.hold_after: int | None = None
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()
        self.port = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="mail.test", ident="test SMTP"), host="127.0.0.1", port=0
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def reset(self) -> None:
        self.messages.clear()
        self.reply = None
        self.hold_after = None
        self.holding.clear()
        self.release.clear()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        del server, session
        if self.reply:
            return self.reply
        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            self.holding.set()
            await self.release.wait()
            return "451 4.3.0 not accepted"
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        async with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 OK"

    async def wait_for(self, count: int) -> list[EmailMessage]:
        """Until ``count`` messages have arrived (woken by each arrival, never polling);
        callers bound the wait with ``asyncio.timeout``."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part: Any = message.get_body(preferencelist=("plain",))
        return part.get_content()

    @classmethod
    def link(cls, message: EmailMessage, path_prefix: str) -> str:
        """The path of the first link in the text body that starts with ``path_prefix``."""
        match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", cls.text(message))
        assert match, f"no {path_prefix} link in: {cls.text(message)}"
        return match[1]
