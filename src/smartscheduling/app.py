"""``create_app(settings) -> Litestar``: plugins, middleware, routers. Nothing else."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router

from smartscheduling.config import STATIC_DIR, Settings, get_settings
from smartscheduling.db import create_db_config, create_engine
from smartscheduling.pages.controllers import PagesController
from smartscheduling.policies.controllers import PolicyController
from smartscheduling.security.headers import HttpsRedirectMiddleware, SecurityHeadersMiddleware
from smartscheduling.web.errors import exception_handlers
from smartscheduling.web.health import healthz, readyz
from smartscheduling.web.requestlog import RequestLogMiddleware
from smartscheduling.web.templating import template_config

#: Paths that neither need nor get a CSRF cookie (probes and immutable assets).
CSRF_EXEMPT = ["^/healthz$", "^/readyz$", "^/static/"]
STATIC_MAX_AGE = 365 * 24 * 3600


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit token: the cookie, and the same value in a ``_csrf_token`` form field
    or an ``x-csrftoken`` header (htmx sends the header, see ``base.html``).

    In production the cookie is ``__Host-`` prefixed: Secure, host-only, path ``/``, so a
    sibling subdomain cannot plant a token.
    """
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="__Host-csrftoken" if settings.is_production else "csrftoken",
        cookie_secure=settings.is_production,
        cookie_httponly=False,
        cookie_samesite="lax",
        exclude=CSRF_EXEMPT,
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    static_router = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=STATIC_MAX_AGE, public=True),
        include_in_schema=False,
    )
    # The app owns its engine and disposes it itself: advanced-alchemy 1.12's lifespan
    # skips dispose() for every config after the first in a process (it looks the engine
    # up under the wrong key once the state key has been made unique).
    engine = create_engine(settings)
    app = Litestar(
        route_handlers=[PagesController, PolicyController, healthz, readyz, static_router],
        plugins=[SQLAlchemyPlugin(config=create_db_config(engine)), HTMXPlugin()],
        on_shutdown=[engine.dispose],
        template_config=template_config(settings),
        csrf_config=csrf_config(settings),
        exception_handlers=exception_handlers(),
        state=State({"settings": settings}),
        openapi_config=None,
        logging_config=None,
        debug=settings.debug,
    )
    # Litestar's middleware runs for matched routes only; these must see every response
    # (404s, 405s, static files), so they wrap the whole ASGI handler. Outermost first:
    # the log line covers redirects, and redirects carry the security headers too.
    edge = app.asgi_handler
    if settings.is_production:
        edge = HttpsRedirectMiddleware(edge, origin=settings.base_origin)
    edge = SecurityHeadersMiddleware(edge, hsts=settings.is_production)
    app.asgi_handler = RequestLogMiddleware(edge)
    return app
