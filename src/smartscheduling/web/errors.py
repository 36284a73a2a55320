"""HTML error pages in the site layout, htmx-aware, without stack traces in production.

For an htmx request the error is a small alert fragment retargeted into the page's
``#alerts`` region (the htmx config in ``base.html`` swaps error responses), so a failed
partial update never replaces a form or a row with a whole error page.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.plugins.flash import flash
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.web.csrf import ensure_token
from smartscheduling.web.http import back_to
from smartscheduling.web.requestlog import request_id_of

logger = logging.getLogger("smartscheduling.errors")
CLIENT_DISCONNECTED = "client disconnected prematurely"

TITLES: Mapping[int, tuple[str, str]] = {
    400: ("Bad request", "We could not understand that request. Please go back and try again."),
    401: ("Please sign in", "You need to sign in to see this page."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Page not found", "There is no page at this address. Check the link, or start again from the home page."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is larger than we accept."),
    422: ("Please check your input", "Some of what you entered needs another look."),
    429: ("Too many attempts", "Please wait a little before trying again."),
    500: ("Something went wrong", "Something went wrong on our side. It has been logged; please try again."),
    503: ("Temporarily unavailable", "We cannot reach our database right now. Please try again in a minute."),
}
CSRF_MESSAGE = (
    "This form has expired or was sent from another site. Reload the page and try again; nothing was changed."
)
#: The one mapping of the domain's refusals to HTTP.
REFUSAL_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: HTTP_422_UNPROCESSABLE_ENTITY,
    Refusal.CONFLICT: HTTP_409_CONFLICT,
    Refusal.TOO_MANY: HTTP_429_TOO_MANY_REQUESTS,
}
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, ConnectionError)
RETRY_AFTER_SECONDS = "30"


def refusal_answer(error: RefusedError) -> dict[str, Any]:
    """The status and headers a refusal is answered with (``**`` into a template response)."""
    headers = {"Retry-After": str(error.retry_after_seconds)} if error.retry_after_seconds is not None else None
    return {"status_code": REFUSAL_STATUS[error.kind], "headers": headers}


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    *,
    message: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    title, default_message = TITLES.get(status_code, (f"Error {status_code}", "The request could not be completed."))
    context = {
        "status_code": status_code,
        "title": title,
        "message": message or default_message,
        "detail": detail,
        "request_id": request_id_of(request.scope),
    }
    response_headers = dict(headers or {})
    # A page no route matched got no CSRF token yet: the banner's forms need one.
    new_csrf_cookie = ensure_token(request.scope, request.cookies, request.app.state.csrf)
    if request.headers.get("hx-request") == "true":
        response_headers |= {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML"}
        template = "errors/partials/_error.html"
    else:
        template = "errors/error.html"
    return Template(
        template_name=template,
        context=context,
        status_code=status_code,
        headers=response_headers,
        cookies=[new_csrf_cookie] if new_csrf_cookie else None,
        media_type=MediaType.HTML,
    )


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.detail == CLIENT_DISCONNECTED:  # Litestar's 500 for a client gone mid-upload: nobody to answer
        logger.info("client disconnected", extra={"fields": {"request_id": request_id_of(request.scope)}})
    elif exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error(
            "server error",
            exc_info=exc,
            extra={"fields": {"request_id": request_id_of(request.scope), "error": type(exc).__name__}},
        )
    message = None
    if isinstance(exc, PermissionDeniedException) and exc.detail == "CSRF token verification failed":
        message = CSRF_MESSAGE
    elif 400 < exc.status_code < 500 and exc.detail != HTTPStatus(exc.status_code).phrase:
        # Our code raises with sentences written for people; Litestar's stock details
        # ("Not Found") give way to the friendlier defaults above. A 400's detail is
        # technical (which field failed to parse) and is shown in development only.
        message = exc.detail
    detail = None
    if request.app.debug and exc.status_code == 400:
        detail = f"{exc.detail} {exc.extra}" if exc.extra else exc.detail
    return error_response(request, exc.status_code, message=message, detail=detail, headers=exc.headers)


def _refused(request: Request[Any, Any, Any], error: RefusedError) -> Response[Any]:
    """A refusal no form showed: the error page (or alert), with the refusal's sentence."""
    return error_response(request, message=str(error), **refusal_answer(error))


def _not_signed_in(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    """Signed out (or the session ended): to the login page, then back where they were."""
    if request.method == "GET" and request.headers.get("hx-request") != "true":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        here = back_to(request)
        if "session" in request.scope:
            flash(request, "Your session has ended. Please sign in again; nothing was changed.", category="warn")
    target = f"/login?{urlencode({'next': here})}"
    if request.headers.get("hx-request") == "true":
        return ClientRedirect(target)
    return Redirect(target, status_code=303)


def _database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.error(
        "database unavailable",
        extra={"fields": {"request_id": request_id_of(request.scope), "error": type(exc).__name__}},
    )
    return error_response(request, HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": RETRY_AFTER_SECONDS})


def lost_the_database(exc: BaseException) -> bool:
    """Whether ``exc``, or what caused it, is the database going away mid-request: a
    connection SQLAlchemy had to invalidate (a server restart, a failover, a killed
    backend), wherever a layer in between (advanced-alchemy's repository) re-raised it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, DATABASE_UNAVAILABLE) or (isinstance(cause, DBAPIError) and cause.connection_invalidated):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _unhandled(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if lost_the_database(exc):
        return _database_unavailable(request, exc)
    logger.error(
        "unhandled error",
        exc_info=exc,
        extra={"fields": {"request_id": request_id_of(request.scope), "error": type(exc).__name__}},
    )
    detail = "".join(traceback.format_exception(exc)) if request.app.debug else None
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR, detail=detail)


def exception_handlers() -> ExceptionHandlersMap:
    handlers: ExceptionHandlersMap = {
        HTTPException: _http_exception,
        NotAuthorizedException: _not_signed_in,
        RefusedError: _refused,
        Exception: _unhandled,
    }
    for exc_type in DATABASE_UNAVAILABLE:
        handlers[exc_type] = _database_unavailable
    return handlers
