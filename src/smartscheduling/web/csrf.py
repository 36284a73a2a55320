"""CSRF protection: Litestar's double-submit token, with three additions.

* **Masked per use.** Pages never carry the token itself: each ``csrf_token()`` in a
  template gives the token XOR-ed with a fresh random mask (mask and result, in hex),
  so the secret part of a page changes with every response and compression cannot be
  used to guess it (BREACH). The middleware unmasks what a form or ``x-csrftoken``
  header sends; the unmasked token (the cookie's value) is accepted too.
* **Rotated at sign-in and sign-out** (:func:`rotate_csrf_token`): a token seen before
  signing in is worthless after.
* **Available on every page**, also those no route matched (404s, where Litestar's
  middleware does not run): :func:`ensure_token` gives such pages a token, so the
  consent banner offers all its choices there too.

The cookie is ``HttpOnly``: no script reads it (htmx sends the masked token from the
page, see ``base.html``).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

_ROTATE = "csrf_rotate"
#: Litestar's token: 64 hex characters of randomness and their 64-hex-character HMAC.
_TOKEN = re.compile(r"[0-9a-f]{128}")
_MASKED = re.compile(r"[0-9a-f]{256}")


def mask(token: str) -> str:
    """``token`` under a fresh random mask: ``mask || token XOR mask``, both in hex."""
    raw = bytes.fromhex(token)
    pad = secrets.token_bytes(len(raw))
    return pad.hex() + bytes(a ^ b for a, b in zip(raw, pad, strict=True)).hex()


def unmask(value: str) -> str | None:
    """The token behind a masked (or plain) value; ``None`` for anything else."""
    if _TOKEN.fullmatch(value):
        return value
    if not _MASKED.fullmatch(value):
        return None
    pad, masked = bytes.fromhex(value[:128]), bytes.fromhex(value[128:])
    return bytes(a ^ b for a, b in zip(masked, pad, strict=True)).hex()


def rotate_csrf_token(scope: Scope) -> None:
    """Give the browser a new token with this response (sign-in, sign-out)."""
    scope.setdefault("state", {})[_ROTATE] = True


def csrf_cookie(config: CSRFConfig, token: str) -> Cookie:
    return Cookie(
        key=config.cookie_name,
        value=token,
        path=config.cookie_path,
        secure=config.cookie_secure,
        httponly=config.cookie_httponly,
        samesite=config.cookie_samesite,
        domain=config.cookie_domain,
    )


def ensure_token(scope: Scope, cookies: dict[str, str], config: CSRFConfig) -> Cookie | None:
    """For a page no route matched: the token the browser holds, or a new one (whose
    cookie the caller sets). Does nothing where the middleware already chose one."""
    state = ScopeState.from_scope(scope)
    if isinstance(state.csrf_token, str) and state.csrf_token:
        return None
    held = cookies.get(config.cookie_name, "")
    if _TOKEN.fullmatch(held):
        state.csrf_token = held
        return None
    state.csrf_token = generate_csrf_token(secret=config.secret)
    return csrf_cookie(config, state.csrf_token)


def masked_token(context: dict[str, Any]) -> str:
    """Template callable ``csrf_token()``: this request's token, masked afresh."""
    token = ScopeState.from_scope(context["request"].scope).csrf_token
    return mask(token) if isinstance(token, str) and _TOKEN.fullmatch(token) else ""


class MaskedCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware with masked tokens and rotation (see the module)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        held = cookie if cookie and self._decode_csrf_token(cookie) is not None else None
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            state.csrf_token = held or generate_csrf_token(secret=self.config.secret)
            await self.app(scope, receive, self._sending(scope, send, new=None if held else state.csrf_token))
            return
        sent = request.headers.get(self.config.header_name)
        if request.content_type[0] in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            form = await request.form()  # read here, whatever carries the token: a form that cannot be read is a 400
            sent = sent or form.get("_csrf_token")
        unmasked = unmask(sent) if isinstance(sent, str) else None
        if held is None or unmasked is None or not self._csrf_tokens_match(unmasked, held):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = held  # pages rendered by this response mask the cookie's token
        await self.app(scope, receive, self._sending(scope, send, new=None))

    def _sending(self, scope: Scope, send: Send, *, new: str | None) -> Send:
        """Sets the cookie: a first token (``new``), or a fresh one after a rotation."""

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                rotate = scope.setdefault("state", {}).pop(_ROTATE, False)
                token = generate_csrf_token(secret=self.config.secret) if rotate else new
                if token is not None:
                    headers = MutableScopeHeaders.from_message(message)
                    headers.add("set-cookie", csrf_cookie(self.config, token).to_header(header=""))
            await send(message)

        return send_with_cookie
