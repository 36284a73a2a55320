"""The HTTP server: uvicorn with bounds on what a client may send and how slowly.

uvicorn's fast parser (httptools) accepts headers of any size and waits forever for a
client that trickles its request line, headers or body a byte at a time. The protocol
here is uvicorn's own httptools protocol with the bounds added:

* the request line and headers together at most ``max_header_bytes`` (431 beyond), and
  at most ``max_headers`` header lines (431);
* the request line and headers must arrive within ``header_timeout`` seconds of the
  first byte (or of the connection opening): else 408 and the connection is closed;
* a body must keep arriving: no gap longer than ``body_timeout`` seconds and, after that
  long, at least ``min_body_rate`` bytes per second on average; else 408 (or, once the
  answer has started, the connection is simply closed);
* an idle keep-alive connection is closed after ``keep_alive`` seconds (uvicorn's own).

How large a body may be is decided per route by Litestar (``request_max_body_size``,
413 beyond): the server only keeps slow clients from holding connections.

:func:`server_options` is the one place these settings become uvicorn options: the
``serve`` and ``run`` commands, and so the Procfile, use it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from smartscheduling.config import Settings, get_settings

logger = logging.getLogger("smartscheduling.server")


class _HeadersTooLarge(Exception):  # noqa: N818 (a signal from a parser callback, not an error of ours)
    """Raised inside a parser callback to stop parsing a request whose head is too large."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with size limits and read timeouts (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bounds = get_settings()  # the process's settings, as the app's (read once, cached)
        self.max_header_bytes = bounds.max_header_bytes
        self.max_headers = bounds.max_headers
        self.header_timeout = bounds.header_timeout_seconds
        self.body_timeout = bounds.body_timeout_seconds
        self.min_body_rate = bounds.min_body_rate
        self._head_bytes = 0
        self._head_count = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body_started = 0.0
        self._body_bytes = 0

    # --- timers -----------------------------------------------------------------------

    def _cancel(self, timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        logger.info("request head too slow: connection closed")
        self._refuse(408, "Request Timeout: the request did not arrive in time.")

    def _arm_body_timer(self) -> None:
        self._cancel(self._body_timer)
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_check)

    def _body_check(self) -> None:
        """Called ``body_timeout`` after the last piece of body arrived, or periodically
        while pieces keep arriving too slowly."""
        self._body_timer = None
        if self.cycle is None or not self.cycle.more_body:
            return
        if self.flow.read_paused:  # the application is not reading yet: not the client's fault
            self._body_started, self._body_bytes = time.monotonic(), 0
            self._arm_body_timer()
            return
        elapsed = time.monotonic() - self._body_started
        logger.info("request body too slow: connection closed", extra={"fields": {"seconds": round(elapsed, 1)}})
        if self.cycle.response_started:
            self.transport.close()
        else:
            self._refuse(408, "Request Timeout: the request body did not arrive in time.")
        self.cycle.disconnected = True
        self.cycle.message_event.set()

    def _refuse(self, status: int, text: str) -> None:
        if self.transport.is_closing():
            return
        body = text.encode("ascii")
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()

    # --- connection and parser callbacks --------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # a connection that never says anything is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel(self._head_timer)
        self._cancel(self._body_timer)
        self._head_timer = self._body_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadersTooLarge):
                self._refuse(431, "Request Header Fields Too Large.")
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_count = 0
        self._arm_head_timer()

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes or self._head_count > self.max_headers:
            raise _HeadersTooLarge

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_count += 1
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel(self._head_timer)
        self._head_timer = None
        super().on_headers_complete()
        self._body_started = time.monotonic()
        self._body_bytes = 0
        if self.parser.get_method() not in (b"GET", b"HEAD", b"OPTIONS", b"DELETE"):
            self._arm_body_timer()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        elapsed = time.monotonic() - self._body_started
        slow = elapsed > self.body_timeout and self._body_bytes < self.min_body_rate * elapsed
        if slow:
            self._body_check()
            return
        self._arm_body_timer()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel(self._body_timer)
        self._body_timer = None
        super().on_message_complete()


PROTOCOL = "smartscheduling.web.server:BoundedHttpToolsProtocol"


def server_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options every way of serving the app shares (``serve``, ``run``)."""
    return {
        "http": PROTOCOL,
        "proxy_headers": True,  # FORWARDED_ALLOW_IPS (read by uvicorn) names the trusted proxies
        "access_log": False,  # the app logs one line per request itself
        "server_header": False,
        "log_config": None,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_concurrency,
    }
