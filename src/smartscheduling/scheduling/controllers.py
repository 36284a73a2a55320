"""The business settings page (``/staff/settings``, administrators)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.countries import countries
from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.models import Role
from smartscheduling.audit.service import ActorDep
from smartscheduling.scheduling.models import Business
from smartscheduling.scheduling.schemas import CURRENCIES, BusinessForm, subdivisions
from smartscheduling.scheduling.services import SETTINGS, BusinessService, StaleSettingsError
from smartscheduling.web.choices import time_zones
from smartscheduling.web.forms import FormState, parse_form, render_form
from smartscheduling.web.http import redirect

Businesses = NamedDependency[BusinessService]
PAGE = ("scheduling/settings.html", "scheduling/partials/_settings_form.html")


@lru_cache(maxsize=1)
def zone_groups() -> dict[str, list[tuple[str, str]]]:
    """The time zones as the drop-down shows them: by region, ``America/New York``."""
    return {region: [(zone, zone.replace("_", " ")) for zone in zones] for region, zones in time_zones().items()}


def settings_state(business: Business) -> FormState:
    values = {name: "" if getattr(business, name) is None else str(getattr(business, name)) for name in SETTINGS}
    return FormState(values={**values, "version": str(business.version)})


class BusinessSettingsController(Controller):
    path = "/staff/settings"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    def _page(request: HTMXRequest, state: FormState, **options: Any) -> HTMXTemplate:
        context = {
            "zone_groups": zone_groups(),
            "countries": countries(),
            "currencies": [(code, code) for code in CURRENCIES],
            "regions": subdivisions().get(state.value("country").upper(), ()),
        }
        return render_form(request, *PAGE, state, **context, **options)

    @get("/", name="business-settings")
    async def show(self, request: HTMXRequest, businesses: Businesses) -> HTMXTemplate:
        return self._page(request, settings_state(await businesses.current()))

    @post("/")
    async def save(self, request: HTMXRequest, actor: ActorDep, businesses: Businesses) -> Response[Any]:
        data, state = parse_form(BusinessForm, await request.form())
        if data is None:
            return self._page(request, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        business = await businesses.current()
        values = {name: getattr(data, name) for name in SETTINGS}
        try:
            changed = await businesses.change(business, version=data.version, values=values, actor=actor)
        except StaleSettingsError as stale:
            answer = state.refuse(stale)
            state.values["version"] = str(stale.current.version)  # saving again replaces them
            return self._page(request, state, **answer)
        message = "Settings saved." if changed else "Settings unchanged."
        if request.htmx:
            saved = settings_state(business)
            return self._page(request, saved, saved_message=message)
        flash(request, message, "ok")
        return redirect(request, request.app.route_reverse("business-settings"))
