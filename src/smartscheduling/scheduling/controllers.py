"""The business settings (``/staff/settings``), its closed days (``/staff/closed-days``),
its services (``/staff/offerings``) and its staff's weeks (``/staff/schedules``):
administrators only."""

from __future__ import annotations

import datetime
import uuid
from functools import lru_cache
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.countries import countries
from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.models import Role, User
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.models import Business, Offering
from smartscheduling.scheduling.schemas import (
    CURRENCIES,
    HOURS_EXAMPLE,
    WEEKDAYS,
    BusinessForm,
    ClosedDayForm,
    OfferingForm,
    WeekForm,
    hours_text,
    price_text,
    subdivisions,
)
from smartscheduling.scheduling.services import (
    SETTINGS,
    BusinessService,
    ClosedDayService,
    OfferingChange,
    OfferingService,
    ScheduleService,
    StaleOfferingError,
    StaleSettingsError,
    UnknownStaffError,
)
from smartscheduling.web.choices import time_zones
from smartscheduling.web.forms import FormState, parse_form, render_form
from smartscheduling.web.http import redirect
from smartscheduling.web.templating import long_date

Businesses = NamedDependency[BusinessService]
Offerings = NamedDependency[OfferingService]
ClosedDays = NamedDependency[ClosedDayService]
Schedules = NamedDependency[ScheduleService]
PAGE = ("scheduling/settings.html", "scheduling/partials/_settings_form.html")


@lru_cache(maxsize=1)
def zone_groups() -> dict[str, list[tuple[str, str]]]:
    """The time zones as the drop-down shows them: by region, ``America/New York``."""
    return {region: [(zone, zone.replace("_", " ")) for zone in zones] for region, zones in time_zones().items()}


async def staff_member(offerings: OfferingService, user_id: uuid.UUID) -> User:
    """A staff member (or administrator) who can perform services; 404 for anyone else."""
    found = next((person for person in await offerings.performers() if person.id == user_id), None)
    if found is None:
        raise NotFoundException("There is no such staff member.")
    return found


async def business_today(businesses: BusinessService, now: datetime.datetime) -> datetime.date:
    """Today, in the business's time zone (where days start and end for its rules)."""
    return (await businesses.current()).local_date(now)


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


def offering_state(offering: Offering) -> FormState:
    values = {
        "version": str(offering.version),
        "name": offering.name,
        "description": offering.description,
        "duration_minutes": str(offering.duration_minutes),
        "price": price_text(offering.price_cents),
        "buffer_before_minutes": str(offering.buffer_before_minutes),
        "buffer_after_minutes": str(offering.buffer_after_minutes),
    }
    return FormState(values=values)


def read_offering_form(form: Any) -> tuple[OfferingForm | None, FormState, frozenset[uuid.UUID]]:
    """The offering form and the staff ids its checkboxes name; ``None`` when a field (or
    a staff id that is no id at all) needs another look."""
    data, state = parse_form(OfferingForm, form)
    staff = set()
    for raw in form.getall("staff", []):
        try:
            staff.add(uuid.UUID(str(raw)))
        except ValueError:
            state.errors["staff"] = UnknownStaffError.sentence
    return (None if state.errors else data), state, frozenset(staff)


class OfferingAdminController(Controller):
    """Administrators keep the services clients book: ``/staff/offerings``."""

    path = "/staff/offerings"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    async def _form(
        offerings: OfferingService,
        offering: Offering | None,
        state: FormState,
        staff: frozenset[uuid.UUID],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMXTemplate:
        context = {"offering": offering, "form": state, "staff": staff, "performers": await offerings.performers()}
        return HTMXTemplate(
            template_name="scheduling/offering.html", context=context, status_code=status_code, headers=headers
        )

    @staticmethod
    async def _get(offerings: OfferingService, offering_id: uuid.UUID) -> Offering:
        offering = await offerings.get_one_or_none(id=offering_id)
        if offering is None:
            raise NotFoundException("There is no such service.")
        return offering

    @get("/", name="staff-offerings")
    async def catalogue(self, offerings: Offerings, businesses: Businesses) -> HTMXTemplate:
        context = {
            "offerings": await offerings.catalogue(),
            "currency": (await businesses.current()).currency,
            "price_text": price_text,
        }
        return HTMXTemplate(template_name="scheduling/offerings.html", context=context)

    @get("/new", name="new-offering")
    async def new(self, offerings: Offerings) -> HTMXTemplate:
        return await self._form(offerings, None, FormState(), frozenset())

    @post("/new")
    async def create(self, request: HTMXRequest, actor: ActorDep, offerings: Offerings) -> Response[Any]:
        data, state, staff = read_offering_form(await request.form())
        if data is None:
            return await self._form(offerings, None, state, staff, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await offerings.add(OfferingChange(data.columns(), staff), actor=actor)
        except RefusedError as refusal:
            return await self._form(offerings, None, state, staff, **state.refuse(refusal))
        flash(request, f"{data.name} added.", "ok")
        return redirect(request, request.app.route_reverse("staff-offerings"))

    @get("/{offering_id:uuid}", name="offering")
    async def edit(self, offering_id: FromPath[uuid.UUID], offerings: Offerings) -> HTMXTemplate:
        offering = await self._get(offerings, offering_id)
        return await self._form(offerings, offering, offering_state(offering), await offerings.staff_of(offering.id))

    @post("/{offering_id:uuid}")
    async def save(
        self, request: HTMXRequest, offering_id: FromPath[uuid.UUID], actor: ActorDep, offerings: Offerings
    ) -> Response[Any]:
        offering = await self._get(offerings, offering_id)
        data, state, staff = read_offering_form(await request.form())
        if data is None:
            return await self._form(offerings, offering, state, staff, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            changed = await offerings.change(
                offering, OfferingChange(data.columns(), staff), version=data.version, actor=actor
            )
        except StaleOfferingError as stale:
            answer = state.refuse(stale)
            state.values["version"] = str(stale.current.version)
            return await self._form(offerings, stale.current, state, staff, **answer)
        except RefusedError as refusal:
            return await self._form(offerings, offering, state, staff, **state.refuse(refusal))
        flash(request, f"{data.name}: {'saved' if changed else 'unchanged'}.", "ok")
        return redirect(request, request.app.route_reverse("staff-offerings"))

    @post("/{offering_id:uuid}/archive", name="archive-offering")
    async def archive(
        self, request: HTMXRequest, offering_id: FromPath[uuid.UUID], actor: ActorDep, offerings: Offerings
    ) -> Response[Any]:
        offering = await self._get(offerings, offering_id)
        archived = (await request.form()).get("archived") != "false"
        await offerings.archive(offering, archived=archived, actor=actor)
        message = "is archived: no longer offered for booking." if archived else "is offered for booking again."
        flash(request, f"{offering.name} {message}", "ok")
        return redirect(request, request.app.route_reverse("staff-offerings"))


#: How far ahead the closed-days page lists the calendar.
CALENDAR_DAYS = 366


class ClosedDaysController(Controller):
    """The public holidays the business is closed on (each can be opened) and the other
    days it closes: ``/staff/closed-days``."""

    path = "/staff/closed-days"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    async def _page(
        businesses: BusinessService,
        closed_days: ClosedDayService,
        now: datetime.datetime,
        state: FormState,
        *,
        status_code: int = 200,
    ) -> HTMXTemplate:
        business = await businesses.current()
        today = business.local_date(now)
        context = {
            "business": business,
            "days": await closed_days.calendar(business, today, today + datetime.timedelta(days=CALENDAR_DAYS)),
            "form": state,
            "today": today,
        }
        return HTMXTemplate(template_name="scheduling/closed_days.html", context=context, status_code=status_code)

    @get("/", name="closed-days")
    async def show(self, businesses: Businesses, closed_days: ClosedDays, now: Now) -> HTMXTemplate:
        return await self._page(businesses, closed_days, now, FormState())

    @post("/")
    async def change(
        self, *, request: HTMXRequest, actor: ActorDep, businesses: Businesses, closed_days: ClosedDays, now: Now
    ) -> Response[Any]:
        data, state = parse_form(ClosedDayForm, await request.form())
        if data is None:
            return await self._page(businesses, closed_days, now, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        business = await businesses.current()
        today = business.local_date(now)
        try:
            await closed_days.set_closed(
                business, data.day, closed=data.closed, note=data.note, today=today, actor=actor
            )
        except RefusedError as refusal:
            answer = state.refuse(refusal)
            return await self._page(businesses, closed_days, now, state, status_code=answer["status_code"])
        flash(request, f"{long_date(data.day)}: {'closed' if data.closed else 'open'}.", "ok")
        return redirect(request, request.app.route_reverse("closed-days"))


class ScheduleController(Controller):
    """Administrators keep every staff member's usual week: ``/staff/schedules``."""

    path = "/staff/schedules"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    def _page(person: User, state: FormState, *, status_code: int = 200) -> HTMXTemplate:
        context = {"person": person, "form": state, "weekdays": WEEKDAYS, "example": HOURS_EXAMPLE}
        return HTMXTemplate(template_name="scheduling/week.html", context=context, status_code=status_code)

    @get("/", name="staff-schedules")
    async def staff(self, offerings: Offerings) -> HTMXTemplate:
        context = {"staff": await offerings.performers()}
        return HTMXTemplate(template_name="scheduling/schedules.html", context=context)

    @get("/{user_id:uuid}", name="staff-week")
    async def week(self, user_id: FromPath[uuid.UUID], offerings: Offerings, schedules: Schedules) -> HTMXTemplate:
        person = await staff_member(offerings, user_id)
        week = await schedules.week(person.id)
        values = {name.lower(): hours_text(week[weekday]) for weekday, name in enumerate(WEEKDAYS)}
        return self._page(person, FormState(values=values))

    @post("/{user_id:uuid}")
    async def save(
        self,
        *,
        request: HTMXRequest,
        user_id: FromPath[uuid.UUID],
        actor: ActorDep,
        offerings: Offerings,
        schedules: Schedules,
    ) -> Response[Any]:
        person = await staff_member(offerings, user_id)
        data, state = parse_form(WeekForm, await request.form())
        if data is None:
            return self._page(person, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        changed = await schedules.set_week(person.id, data.week(), actor=actor)
        who = person.name or person.email
        flash(request, f"{who}: {'hours saved' if changed else 'hours unchanged'}.", "ok")
        return redirect(request, request.app.route_reverse("staff-week", user_id=person.id))
