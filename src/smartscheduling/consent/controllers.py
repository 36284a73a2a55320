"""The cookie declaration, the consent banner's answers, preferences, receipts, display
choices and the page-view counts."""

from __future__ import annotations

import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.guards import anyone, requires_role
from smartscheduling.accounts.identity import VisitorDep
from smartscheduling.accounts.models import Role
from smartscheduling.config import Settings
from smartscheduling.consent.decision import ConsentState, consent_cookie, state_of
from smartscheduling.consent.display import TEXT_SIZES, display_cookie
from smartscheduling.consent.models import ConsentRecord
from smartscheduling.consent.registry import COOKIES, OPTIONAL, Category, cookie_name
from smartscheduling.consent.services import ConsentService, PageViewService, choice_from_form
from smartscheduling.db import utcnow
from smartscheduling.web.http import local_path

Consents = NamedDependency[ConsentService]


def _receipt_entry(record: ConsentRecord) -> dict[str, Any]:
    return {
        "decided_at": record.decided_at.isoformat(),
        "method": record.method.value,
        "choices": {
            Category.NECESSARY.value: True,
            Category.PREFERENCES.value: record.preferences,
            Category.ANALYTICS.value: record.analytics,
        },
        "cookie_policy_version": record.policy_version,
        "global_privacy_control": record.gpc,
        "consent_id": record.consent_id,
    }


class CookiesController(Controller):
    path = "/cookies"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="cookies")
    async def declaration(self, state: State, cookie_policy_version: NamedDependency[int]) -> HTMXTemplate:
        settings: Settings = state.settings
        context = {
            "cookies": COOKIES,
            "categories": list(Category),
            "prefixed": settings.is_production,
            "months": settings.consent_max_age_months,
            "policy_version": cookie_policy_version,
        }
        return HTMXTemplate(template_name="consent/cookies.html", context=context)

    @get("/preferences", name="cookie-preferences")
    async def preferences(
        self,
        request: HTMXRequest,
        visitor: VisitorDep,
        consent_service: Consents,
        saved: FromQuery[bool] = False,
    ) -> HTMXTemplate:
        consent = state_of(request.scope)
        user = visitor
        history = await consent_service.history(consent_id=consent.consent_id, user_id=user.id if user else None)
        context = {"consent": consent, "optional": OPTIONAL, "saved": saved, "history": history[:10]}
        return HTMXTemplate(template_name="consent/preferences.html", context=context)

    @get("/receipt", name="consent-receipt")
    async def receipt(
        self, request: Request[Any, Any, Any], visitor: VisitorDep, consent_service: Consents
    ) -> Response[Any]:
        """Everything recorded about this browser's (and, signed in, this user's) decisions."""
        consent = state_of(request.scope)
        user = visitor
        history = await consent_service.history(consent_id=consent.consent_id, user_id=user.id if user else None)
        current = consent.decision
        body = {
            "receipt_version": 1,
            "service": "Smart Scheduling",
            "issued_at": utcnow().replace(microsecond=0).isoformat(),
            "consent_id": consent.consent_id,
            "current": None
            if current is None
            else {
                "decided_at": current.decided_at.isoformat(),
                "cookie_policy_version": current.policy_version,
                "choices": {category.value: consent.allows(category) for category in Category},
                "global_privacy_control_now": consent.gpc,
            },
            "decisions": [_receipt_entry(record) for record in history],
        }
        return Response(
            content=body,
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="consent-receipt.json"'},
        )


class ConsentController(Controller):
    path = "/consent"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @post("/", name="consent", status_code=303)
    async def decide(
        self,
        *,
        request: HTMXRequest,
        visitor: VisitorDep,
        consent_service: Consents,
        state: State,
        cookie_policy_version: NamedDependency[int],
    ) -> Response[Any]:
        settings: Settings = state.settings
        form = await request.form()
        consent = state_of(request.scope)
        try:
            categories = [value for value in form.getall("categories", []) if isinstance(value, str)]
            choice = choice_from_form(str(form.get("choice", "")), categories, gpc=consent.gpc)
        except ValueError as problem:
            raise HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail=str(problem)) from None
        user = visitor
        decision = await consent_service.decide(
            consent_id=consent.consent_id,
            user_id=user.id if user else None,
            choice=choice,
            policy_version=cookie_policy_version,
            gpc=consent.gpc,
        )
        cookies = [consent_cookie(decision, settings)]
        if not decision.preferences and cookie_name("display", settings) in request.cookies:
            cookies.append(Cookie(key=cookie_name("display", settings), value="", max_age=0, path="/",
                                  secure=settings.is_production, samesite="lax"))  # fmt: skip
        back = local_path(str(form.get("next", "")), "/")
        if request.htmx:
            decided = ConsentState(decision=decision, gpc=consent.gpc, consent_id=decision.consent_id)
            if form.get("source") == "preferences":
                history = await consent_service.history(
                    consent_id=decision.consent_id, user_id=user.id if user else None
                )
                context = {"consent": decided, "optional": OPTIONAL, "saved": True, "history": history[:10]}
                template = "consent/partials/_preferences_form.html"
            else:
                context = {"consent": decided}
                template = "consent/partials/_banner_done.html"
            return HTMXTemplate(template_name=template, context=context, cookies=cookies, status_code=200)
        return Redirect(back, status_code=303, cookies=cookies)


class DisplayController(Controller):
    """Display choices for visitors without an account: a real use of the preferences category."""

    path = "/display"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="display")
    async def show(self, request: HTMXRequest, saved: FromQuery[bool] = False) -> HTMXTemplate:
        context = {"consent": state_of(request.scope), "sizes": TEXT_SIZES, "saved": saved}
        return HTMXTemplate(template_name="consent/display.html", context=context)

    @post("/", status_code=303)
    async def save(self, request: HTMXRequest, state: State) -> Response[Any]:
        settings: Settings = state.settings
        form = await request.form()
        size = str(form.get("text_size", ""))
        if size not in TEXT_SIZES:
            raise HTTPException(status_code=HTTP_422_UNPROCESSABLE_ENTITY, detail="Please choose one of the sizes.")
        consent = state_of(request.scope)
        if consent.decision is None or not consent.allows(Category.PREFERENCES):
            # Nothing to remember it with; the firewall would drop the cookie anyway.
            raise HTTPException(
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                detail="To remember a text size we need a preferences cookie: allow it in Cookie settings first.",
            )
        # It lives no longer than the consent it rests on.
        cookie = display_cookie({"text": size}, settings, consent.decision.remaining(settings))
        return Redirect("/display?saved=true", status_code=303, cookies=[cookie])


@get(
    "/analytics",
    name="analytics",
    guards=[requires_role(Role.PRIVACY_OFFICER, Role.ADMIN)],
    include_in_schema=False,
)
async def analytics(page_views: NamedDependency[PageViewService]) -> HTMXTemplate:
    """Page views per day and page over the last 30 days: all analytics ever records."""
    since = utcnow().date() - datetime.timedelta(days=30)
    rows = await page_views.since(since)
    return HTMXTemplate(template_name="consent/analytics.html", context={"rows": rows, "since": since})
