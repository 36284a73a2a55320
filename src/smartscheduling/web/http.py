"""Small HTTP helpers shared by the controllers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict
from litestar.exceptions import ClientException
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from smartscheduling.network import UNKNOWN_NETWORK, network_prefix


def redirect(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """Post/Redirect/Get: 303 for a plain form; for htmx a client-side redirect, so that a
    whole page is never swapped into a fragment."""
    if isinstance(request, HTMXRequest) and request.htmx:
        response = ClientRedirect(url)
        response.status_code = 200  # not the 201 Litestar gives POST handlers by default
        return response
    return Redirect(url, status_code=303)


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(char) < 0x20 for char in target):
        return default
    return target


def back_to(request: Request[Any, Any, Any], default: str = "/") -> str:
    """The local page the request came from (htmx's ``HX-Current-URL``, else ``Referer``)."""
    source = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    if parts.netloc and parts.netloc != request.headers.get("host"):
        return default
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""), default)


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The client's address as uvicorn saw it (the proxy's ``X-Forwarded-For`` when trusted)."""
    return connection.client.host if connection.client else None


def client_network(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's network (/24, /48): what every per-network throttle counts."""
    return network_prefix(client_ip(connection)) or UNKNOWN_NETWORK


def flash_at(connection: ASGIConnection[Any, Any, Any, Any], message: str, *, target: str) -> None:
    """A flash message shown where it happened (in the element whose id is ``target``),
    not at the top of the page: after a redirect to ``…#target`` that is where the reader is."""
    connection.session.setdefault("_messages", []).append({"message": message, "category": "ok", "target": target})


class AppRequest(HTMXRequest):
    """The app's request class: htmx details, and a form that cannot be decoded (bytes
    that are not UTF-8, an unknown charset in a multipart part) is the client's error."""

    async def form(self) -> FormMultiDict:
        try:
            return await super().form()
        except (UnicodeDecodeError, LookupError) as exc:
            raise ClientException("The form could not be read: its text was not UTF-8.") from exc


def refuse_nul(app: ASGIApp) -> ASGIApp:
    """Middleware: no address holds a NUL character (``%00``). Refused before any route
    sees one, so no file lookup, query or stored text ever meets it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"").lower()
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            raise ClientException("The address contains a character no page address may contain.")
        await app(scope, receive, send)

    return middleware


class HeadAsGet:
    """Answers ``HEAD`` wherever ``GET`` is answered: the app sees ``GET``, the body stays
    out. The scope is changed in place (layers inside keep their state in it, such as the
    database session closed when the response starts) and is ``HEAD`` again from the
    moment the response starts, so the server and the request log know what was asked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_head(message: Message) -> None:
            if message["type"] == "http.response.start":
                scope["method"] = "HEAD"
            elif message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        scope["method"] = "GET"
        try:
            await self.app(scope, receive, send_head)
        finally:
            scope["method"] = "HEAD"
