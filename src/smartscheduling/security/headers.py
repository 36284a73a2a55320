"""Security headers and the HTTP→HTTPS redirect.

Both are plain ASGI wrappers placed around Litestar's whole ASGI handler (see
``app.py``): Litestar's own middleware runs only for routes that matched, so a 404, a
405 or a static file would otherwise go out without them.
"""

from __future__ import annotations

from urllib.parse import quote

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

#: Nothing is allowed unless named: our own scripts, styles, images and fonts, htmx's
#: requests to our own origin, forms posting to it. No inline script or style anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=63072000; includeSubDomains"

BASELINE_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    # frame-ancestors covers current browsers; old phones only know this one.
    ("x-frame-options", "DENY"),
)

#: Load balancers probe these over plain HTTP.
REDIRECT_EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


class SecurityHeadersMiddleware:
    """Adds the baseline headers to every HTTP response, and HSTS to HTTPS responses.

    Headers a handler set itself win (e.g. a long ``cache-control`` on static files);
    any response that did not choose a cache policy is ``no-store``: pages carry CSRF
    tokens and, for signed-in users, personal data.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        add_hsts = self.hsts and scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in BASELINE_HEADERS:
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if add_hsts:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HttpsRedirectMiddleware:
    """Redirects plain-HTTP requests to the HTTPS origin of ``BASE_URL`` (308 keeps the method).

    Proxy-aware through uvicorn's ``--proxy-headers``: behind a trusted proxy
    (``FORWARDED_ALLOW_IPS``) the scope's scheme is the one the client used. The target
    host comes from settings, never from the request's Host header (no open redirect).
    """

    def __init__(self, app: ASGIApp, *, origin: str) -> None:
        self.app = app
        self.origin = origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") == "https" or scope["path"] in REDIRECT_EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        # raw_path keeps the client's percent-encoding; some servers leave the query on it.
        raw_path = (scope.get("raw_path") or quote(scope["path"]).encode()).split(b"?", 1)[0]
        location = self.origin + raw_path.decode("latin-1")
        if scope.get("query_string"):
            location += "?" + scope["query_string"].decode("latin-1")
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
