"""``create_app(settings) -> Litestar``: plugins, middleware, routers. Nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Request, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts import templating as accounts_templating
from smartscheduling.accounts.controllers import (
    AuthController,
    PasswordController,
    SignupController,
    VerifyEmailController,
)
from smartscheduling.accounts.guards import anyone
from smartscheduling.accounts.identity import (
    SESSION_USER,
    IdentityMiddleware,
    provide_actor,
    provide_viewer,
    provide_visitor,
)
from smartscheduling.accounts.services import AccountHooks, AccountService
from smartscheduling.business_days import BusinessCalendar
from smartscheduling.clock import Clock, system_clock
from smartscheduling.complaints.controllers import ComplaintController, MyComplaintsController
from smartscheduling.complaints.services import ComplaintService
from smartscheduling.complaints.staff_controllers import StaffComplaintController
from smartscheduling.config import STATIC_DIR, Settings, get_settings
from smartscheduling.consent import templating as consent_templating
from smartscheduling.consent.controllers import ConsentController, CookiesController, DisplayController, analytics
from smartscheduling.consent.decision import state_of
from smartscheduling.consent.firewall import CookieFirewall
from smartscheduling.consent.registry import cookie_name
from smartscheduling.consent.services import ConsentService, PageViewService
from smartscheduling.db import ReleaseSessionFirst, create_db_config, create_engine
from smartscheduling.pages.controllers import PagesController
from smartscheduling.policies import templating as policies_templating
from smartscheduling.policies.controllers import PolicyNoticeController, policy_routers
from smartscheduling.policies.models import PolicyKind
from smartscheduling.policies.services import LatestVersions, PolicyService
from smartscheduling.policies.staff import CampaignController, PolicyStaffController
from smartscheduling.processors.controllers import ProcessorAdminController, ProcessorRegisterController
from smartscheduling.processors.services import ProcessorService
from smartscheduling.profile.controllers import EmailChangeController, ProfileController
from smartscheduling.profile.services import ProfileHooks, ProfileService
from smartscheduling.registry import REGISTRY
from smartscheduling.scheduling.appointment_controllers import MyAppointmentsController
from smartscheduling.scheduling.booking import BookingService
from smartscheduling.scheduling.booking_controllers import BookingController
from smartscheduling.scheduling.controllers import (
    BusinessSettingsController,
    ClosedDaysController,
    OfferingAdminController,
    ScheduleController,
)
from smartscheduling.scheduling.services import BusinessService, ClosedDayService, OfferingService, ScheduleService
from smartscheduling.scheduling.staff_controllers import (
    StaffExceptionsController,
    StaffProfileController,
    TimeOffController,
)
from smartscheduling.security.headers import HttpsRedirectMiddleware, SecurityHeadersMiddleware
from smartscheduling.security.models import StoreItem
from smartscheduling.security.passwords import PasswordHasher
from smartscheduling.security.sessions import SessionConfig, SessionStore
from smartscheduling.security.throttle import RedisCounters, SqlCounters, Throttle
from smartscheduling.staff.appointments import DeskService
from smartscheduling.staff.audit_controllers import AuditController
from smartscheduling.staff.audit_log import AuditLogService
from smartscheduling.staff.clients import ClientService
from smartscheduling.staff.controllers import ClientsController, DashboardController, ErasureController
from smartscheduling.staff.day_controllers import DayController, StaffBookingController
from smartscheduling.staff.dayview import DayViewService
from smartscheduling.staff.desk_controllers import AppointmentDeskController
from smartscheduling.staff.erasure import ErasureService
from smartscheduling.staff.figures import FiguresService
from smartscheduling.web.csrf import MaskedCSRFMiddleware
from smartscheduling.web.errors import exception_handlers
from smartscheduling.web.health import healthz, readyz
from smartscheduling.web.http import AppRequest, HeadAsGet, refuse_nul
from smartscheduling.web.requestlog import RequestLogMiddleware
from smartscheduling.web.static import static_router
from smartscheduling.web.templating import template_config
from smartscheduling.worker import run_worker

#: Paths that need no CSRF cookie, session or user (probes and immutable assets).
INFRASTRUCTURE_PATHS = ["^/healthz$", "^/readyz$", "^/static(/|$)", "^/favicon.ico$"]
#: The largest request body a route accepts unless it says otherwise (forms are small;
#: 413 beyond, before the body is read).
FORM_MAX_BYTES = 64 * 1024


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit token: the cookie, and the same token (masked, see ``web/csrf.py``) in
    a ``_csrf_token`` form field or an ``x-csrftoken`` header (htmx sends the header, see
    ``base.html``).

    In production the cookie is ``__Host-`` prefixed: Secure, host-only, path ``/``, so a
    sibling subdomain cannot plant a token.
    """
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=cookie_name("csrftoken", settings),
        cookie_secure=settings.is_production,
        cookie_httponly=True,  # no script reads it: pages carry the (masked) token
        cookie_samesite="lax",
        exclude=INFRASTRUCTURE_PATHS,
    )


def session_config(settings: Settings) -> SessionConfig:
    return SessionConfig(
        key=cookie_name("session", settings),
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
        max_age=settings.session_max_hours * 3600,
        idle_timeout=settings.session_idle_minutes * 60,
        absolute_lifetime=settings.session_max_hours * 3600,
        owner_key=SESSION_USER,
        exclude=INFRASTRUCTURE_PATHS,
    )


def shared_stores(
    settings: Settings, db_config: SQLAlchemyAsyncConfig, engine: AsyncEngine
) -> tuple[dict[str, Store], Throttle, list[Callable[[], Awaitable[None]]]]:
    """Sessions and throttle counters live where every process sees them: Redis when
    ``REDIS_URL`` is set, the database otherwise."""
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url)
        sessions: Store = RedisStore(client, namespace="smartscheduling:sessions")
        return {"sessions": sessions}, Throttle(RedisCounters(client), settings.secret_key), [client.aclose]
    sessions = SessionStore(config=db_config, model=StoreItem, namespace="sessions")
    return {"sessions": sessions}, Throttle(SqlCounters(engine), settings.secret_key), []


#: Where accounts meet the features: the policy versions accepted at sign-up, and the
#: browser's consent decisions that become the person's at sign-in.
ACCOUNT_HOOKS = AccountHooks(
    signed_up=(lambda session, user: PolicyService(session).accept_at_sign_up(user),),
    signed_in=(lambda session, user, consent_id: ConsentService(session).link(consent_id, user.id),),
)
#: Where the profile meets the features: the U.S. storage notice and the acknowledgements
#: policies keep, the cookie decisions consent keeps.
PROFILE_HOOKS = ProfileHooks(
    acknowledge_us_transfer=lambda session, user_id: PolicyService(session).acknowledge_us_transfer(
        user_id, context="profile"
    ),
    has_acknowledged_us_transfer=lambda session, user_id: PolicyService(session).has_acknowledged_us_transfer(user_id),
    acknowledgements=lambda session, user_id: PolicyService(session).acknowledgements(user_id),
    cookie_consents=lambda session, user_id: ConsentService(session).history(consent_id=None, user_id=user_id),
)


async def provide_accounts(db_session: NamedDependency[AsyncSession], state: State) -> AccountService:
    return AccountService(db_session, state.settings, state.hasher, ACCOUNT_HOOKS)


async def provide_consent(db_session: NamedDependency[AsyncSession]) -> ConsentService:
    return ConsentService(db_session)


async def provide_policies(db_session: NamedDependency[AsyncSession]) -> PolicyService:
    return PolicyService(db_session)


async def provide_processors(db_session: NamedDependency[AsyncSession]) -> ProcessorService:
    return ProcessorService(session=db_session)


async def provide_businesses(db_session: NamedDependency[AsyncSession]) -> BusinessService:
    return BusinessService(session=db_session)


async def provide_offerings(db_session: NamedDependency[AsyncSession]) -> OfferingService:
    return OfferingService(session=db_session)


async def provide_bookings(db_session: NamedDependency[AsyncSession], state: State) -> BookingService:
    return BookingService(db_session, domain=state.settings.site_host)


async def provide_clients(
    db_session: NamedDependency[AsyncSession], bookings: NamedDependency[BookingService]
) -> ClientService:
    return ClientService(db_session, bookings)


async def provide_desk(
    db_session: NamedDependency[AsyncSession], bookings: NamedDependency[BookingService]
) -> DeskService:
    return DeskService(db_session, bookings)


async def provide_days(db_session: NamedDependency[AsyncSession]) -> DayViewService:
    return DayViewService(db_session)


async def provide_audit_log(db_session: NamedDependency[AsyncSession]) -> AuditLogService:
    return AuditLogService(db_session)


async def provide_erasures(db_session: NamedDependency[AsyncSession]) -> ErasureService:
    return ErasureService(db_session, REGISTRY)


async def provide_figures(db_session: NamedDependency[AsyncSession]) -> FiguresService:
    return FiguresService(db_session)


async def provide_complaints(db_session: NamedDependency[AsyncSession], state: State) -> ComplaintService:
    return ComplaintService(db_session, state.settings)


async def provide_calendar(businesses: NamedDependency[BusinessService]) -> BusinessCalendar:
    """The business days the clocks count (complaints'): the business's zone, country and region."""
    business = await businesses.current()
    return BusinessCalendar(ZoneInfo(business.time_zone), business.country, business.subdivision)


async def provide_closed_days(db_session: NamedDependency[AsyncSession]) -> ClosedDayService:
    return ClosedDayService(db_session)


async def provide_schedules(db_session: NamedDependency[AsyncSession]) -> ScheduleService:
    return ScheduleService(db_session)


async def provide_page_views(db_session: NamedDependency[AsyncSession]) -> PageViewService:
    return PageViewService(db_session)


async def provide_profile(db_session: NamedDependency[AsyncSession], state: State) -> ProfileService:
    return ProfileService(db_session, state.settings, state.hasher, REGISTRY, PROFILE_HOOKS)


async def provide_browser_id(request: Request[Any, Any, Any]) -> str | None:
    """The browser's own anonymous id: the one its cookie-consent records carry."""
    return state_of(request.scope).consent_id


async def provide_privacy_version(state: State) -> int:
    """The privacy policy version a sign-up accepts (the latest published)."""
    return await state.latest_versions.number(PolicyKind.PRIVACY)


async def provide_cookie_policy_version(state: State) -> int:
    """The cookie policy version a consent decision is made under (the latest published)."""
    return await state.latest_versions.number(PolicyKind.COOKIES)


@asynccontextmanager
async def embedded_worker(app: Litestar) -> AsyncIterator[None]:
    """Development: the outbox worker runs inside the web process."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(app.state.settings, stop, poll_seconds=1))
    try:
        yield
    finally:
        stop.set()
        await task


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> Litestar:
    """The app; ``clock`` is what time-dependent rules read (tests give a fixed one)."""
    settings = settings or get_settings()
    # The app owns its engine and disposes it itself: advanced-alchemy 1.12's lifespan
    # skips dispose() for every config after the first in a process (it looks the engine
    # up under the wrong key once the state key has been made unique).
    engine = create_engine(settings)
    db_config = create_db_config(engine)
    stores, throttle, closers = shared_stores(settings, db_config, engine)
    csrf = csrf_config(settings)
    templates = template_config(
        settings, [accounts_templating.register, consent_templating.register, policies_templating.register]
    )
    latest_versions = LatestVersions(engine, ttl=settings.policy_cache_seconds)
    static_files = static_router(STATIC_DIR)
    app = Litestar(
        route_handlers=[
            PagesController,
            *policy_routers(),
            PolicyNoticeController,
            PolicyStaffController,
            CampaignController,
            ProcessorRegisterController,
            ProcessorAdminController,
            BusinessSettingsController,
            OfferingAdminController,
            ClosedDaysController,
            ScheduleController,
            StaffExceptionsController,
            TimeOffController,
            StaffProfileController,
            ClientsController,
            ErasureController,
            DashboardController,
            AppointmentDeskController,
            DayController,
            StaffBookingController,
            AuditController,
            ComplaintController,
            MyComplaintsController,
            StaffComplaintController,
            BookingController,
            MyAppointmentsController,
            SignupController,
            VerifyEmailController,
            AuthController,
            PasswordController,
            ProfileController,
            EmailChangeController,
            CookiesController,
            ConsentController,
            DisplayController,
            analytics,
            # The platform's own routes: public, declared so here (the web floor knows no roles).
            Router(path="/", route_handlers=[healthz, readyz, static_files], guards=[anyone]),
        ],
        plugins=[
            SQLAlchemyPlugin(config=db_config),
            HTMXPlugin(),
        ],
        request_class=AppRequest,
        middleware=[
            refuse_nul,
            session_config(settings).middleware,
            DefineMiddleware(ReleaseSessionFirst, db_config=db_config),
            IdentityMiddleware(db_config, exclude="|".join(INFRASTRUCTURE_PATHS)),
            DefineMiddleware(MaskedCSRFMiddleware, config=csrf),
        ],
        stores=stores,
        dependencies={
            "accounts": Provide(provide_accounts),
            "profile": Provide(provide_profile),
            "consent_service": Provide(provide_consent),
            "page_views": Provide(provide_page_views),
            "businesses": Provide(provide_businesses),
            "offerings": Provide(provide_offerings),
            "closed_days": Provide(provide_closed_days),
            "schedules": Provide(provide_schedules),
            "bookings": Provide(provide_bookings),
            "clients": Provide(provide_clients),
            "erasures": Provide(provide_erasures),
            "desk": Provide(provide_desk),
            "days": Provide(provide_days),
            "audit_log": Provide(provide_audit_log),
            "figures": Provide(provide_figures),
            "complaints": Provide(provide_complaints),
            "calendar": Provide(provide_calendar),
            "now": Provide(clock, sync_to_thread=False),
            "policies": Provide(provide_policies),
            "processors": Provide(provide_processors),
            "throttle": Provide(lambda: throttle, sync_to_thread=False),
            "versions": Provide(lambda: latest_versions, sync_to_thread=False),
            "viewer": Provide(provide_viewer),
            "visitor": Provide(provide_visitor),
            "actor": Provide(provide_actor),
            "browser_id": Provide(provide_browser_id),
            "privacy_version": Provide(provide_privacy_version),
            "cookie_policy_version": Provide(provide_cookie_policy_version),
        },
        before_request=policies_templating.load_notices(db_config),
        template_config=templates,
        exception_handlers=exception_handlers(),
        lifespan=[embedded_worker] if settings.embedded_worker else [],
        on_shutdown=[engine.dispose, *closers],
        state=State(
            {
                "settings": settings,
                "csrf": csrf,
                "latest_versions": latest_versions,
                "policy_articles": {},  # policies.controllers.article: rendered published versions
                "hasher": PasswordHasher(settings.password_iterations, settings.password_hash_concurrency),
            }
        ),
        openapi_config=None,
        logging_config=None,
        request_max_body_size=FORM_MAX_BYTES,
        debug=settings.debug,
    )
    # Litestar's middleware runs for matched routes only; these must see every response
    # (404s, 405s, static files), so they wrap the whole ASGI handler. Outermost first:
    # the log line covers redirects, and redirects carry the security headers too; no
    # cookie leaves without passing the consent firewall. The policy versions are checked
    # as a request starts, before it holds any database connection.
    edge = latest_versions.checked(
        CookieFirewall(
            HeadAsGet(app.asgi_handler), settings, engine, lambda: latest_versions.number(PolicyKind.COOKIES)
        )
    )
    if settings.is_production:
        edge = HttpsRedirectMiddleware(edge, origin=settings.base_origin)
    edge = SecurityHeadersMiddleware(edge, hsts=settings.is_production)
    app.asgi_handler = RequestLogMiddleware(edge)
    return app
