"""Staff members' own pages and their exceptions: administrators add and remove anyone's
time off and extra hours (``/staff/schedules/{id}/exceptions``); staff add and remove
their own time off (``/staff/time-off``) and say how clients see them
(``/staff/profile``). Every change is an audit event on the staff member's record."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.identity import ViewerDep
from smartscheduling.accounts.models import Role
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.refusals import FORM, RefusedError
from smartscheduling.scheduling.controllers import business_today, staff_member
from smartscheduling.scheduling.models import ExceptionKind
from smartscheduling.scheduling.schemas import ExceptionForm, StaffProfileForm, wall_time
from smartscheduling.scheduling.services import BusinessService, ExceptionChange, OfferingService, ScheduleService
from smartscheduling.web.forms import FormState, parse_form, render_form
from smartscheduling.web.http import redirect
from smartscheduling.web.templating import long_date

Businesses = NamedDependency[BusinessService]
Offerings = NamedDependency[OfferingService]
Schedules = NamedDependency[ScheduleService]
ONLY_TIME_OFF = frozenset({ExceptionKind.TIME_OFF})
EVERY_KIND = frozenset(ExceptionKind)


def change_of(data: ExceptionForm) -> ExceptionChange:
    return ExceptionChange(
        kind=ExceptionKind(data.kind),
        first_day=data.first_day,
        last_day=data.last_day or data.first_day,
        interval=data.interval(),
        note=data.note,
    )


def days_text(first: datetime.date, last: datetime.date) -> str:
    return long_date(first) if first == last else f"{long_date(first)} to {long_date(last)}"


async def read_exception(
    request: HTMXRequest, *, allowed: frozenset[ExceptionKind]
) -> tuple[ExceptionChange | None, FormState]:
    data, state = parse_form(ExceptionForm, await request.form())
    if data is not None and ExceptionKind(data.kind) not in allowed:
        state.errors[FORM] = "Staff add their own time off; extra hours are added by an administrator."
        return None, state
    return (change_of(data) if data else None), state


async def exceptions_page(
    request: HTMXRequest,
    person: Any,
    schedules: ScheduleService,
    today: datetime.date,
    state: FormState,
    *,
    own: bool,
    **answer: Any,
) -> HTMXTemplate:
    """The entries that are not over and the form that adds one; ``own``: a staff
    member's own page (time off only) rather than an administrator's."""
    if own:
        add, remove = request.app.route_reverse("time-off"), "remove-time-off"
    else:
        add, remove = request.app.route_reverse("staff-exceptions", user_id=person.id), "remove-staff-exception"
    context = {
        "person": person, "own": own, "exceptions": await schedules.exceptions(person.id, today), "form": state,
        "today": today, "add_url": add, "remove_route": remove, "wall_time": wall_time, "Kind": ExceptionKind,
    }  # fmt: skip
    return HTMXTemplate(template_name="scheduling/exceptions.html", context=context, **answer)


async def add_from_form(
    request: HTMXRequest,
    person: Any,
    schedules: ScheduleService,
    today: datetime.date,
    *,
    own: bool,
    actor: Any,
) -> Response[Any]:
    """Add the form's entry for ``person``, or show the form again with what to fix."""
    change, state = await read_exception(request, allowed=ONLY_TIME_OFF if own else EVERY_KIND)
    if change is None:
        return await exceptions_page(
            request, person, schedules, today, state, own=own, status_code=HTTP_422_UNPROCESSABLE_ENTITY
        )
    try:
        await schedules.add_exception(person.id, change, today=today, actor=actor)
    except RefusedError as refusal:
        return await exceptions_page(request, person, schedules, today, state, own=own, **state.refuse(refusal))
    what = "Time off" if change.kind is ExceptionKind.TIME_OFF else "Extra hours"
    flash(request, f"{what} added: {days_text(change.first_day, change.last_day)}.", "ok")
    return redirect(request, request.url.path)


class StaffExceptionsController(Controller):
    """Administrators: anyone's time off and extra hours."""

    path = "/staff/schedules/{user_id:uuid}/exceptions"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-exceptions")
    async def show(
        self,
        *,
        request: HTMXRequest,
        user_id: FromPath[uuid.UUID],
        offerings: Offerings,
        schedules: Schedules,
        businesses: Businesses,
        now: Now,
    ) -> HTMXTemplate:
        person = await staff_member(offerings, user_id)
        today = await business_today(businesses, now)
        return await exceptions_page(request, person, schedules, today, FormState(), own=False)

    @post("/")
    async def add(
        self,
        *,
        request: HTMXRequest,
        user_id: FromPath[uuid.UUID],
        actor: ActorDep,
        offerings: Offerings,
        schedules: Schedules,
        businesses: Businesses,
        now: Now,
    ) -> Response[Any]:
        person = await staff_member(offerings, user_id)
        today = await business_today(businesses, now)
        return await add_from_form(request, person, schedules, today, own=False, actor=actor)

    @post("/{exception_id:uuid}/delete", name="remove-staff-exception")
    async def remove(
        self,
        request: HTMXRequest,
        user_id: FromPath[uuid.UUID],
        exception_id: FromPath[uuid.UUID],
        actor: ActorDep,
        schedules: Schedules,
    ) -> Response[Any]:
        removed = await schedules.remove_exception(user_id, exception_id, kinds=EVERY_KIND, actor=actor)
        if removed is None:
            raise NotFoundException("There is no such entry.")
        flash(request, f"Removed: {days_text(removed.first_day, removed.last_day)}.", "ok")
        return redirect(request, request.app.route_reverse("staff-exceptions", user_id=user_id))


class TimeOffController(Controller):
    """Staff members' own time off: ``/staff/time-off``."""

    path = "/staff/time-off"
    guards = [requires_role(Role.STAFF)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="time-off")
    async def show(
        self, request: HTMXRequest, viewer: ViewerDep, schedules: Schedules, businesses: Businesses, now: Now
    ) -> HTMXTemplate:
        today = await business_today(businesses, now)
        return await exceptions_page(request, viewer, schedules, today, FormState(), own=True)

    @post("/")
    async def add(
        self,
        *,
        request: HTMXRequest,
        viewer: ViewerDep,
        actor: ActorDep,
        schedules: Schedules,
        businesses: Businesses,
        now: Now,
    ) -> Response[Any]:
        today = await business_today(businesses, now)
        return await add_from_form(request, viewer, schedules, today, own=True, actor=actor)

    @post("/{exception_id:uuid}/delete", name="remove-time-off")
    async def remove(
        self, request: HTMXRequest, exception_id: FromPath[uuid.UUID], viewer: ViewerDep, actor: ActorDep,
        schedules: Schedules,
    ) -> Response[Any]:  # fmt: skip
        removed = await schedules.remove_exception(viewer.id, exception_id, kinds=ONLY_TIME_OFF, actor=actor)
        if removed is None:  # someone else's, extra hours, or gone
            raise NotFoundException("There is no such time off of yours.")
        flash(request, f"Removed: {days_text(removed.first_day, removed.last_day)}.", "ok")
        return redirect(request, request.app.route_reverse("time-off"))


class StaffProfileController(Controller):
    """How a staff member appears to clients who book: ``/staff/profile``."""

    path = "/staff/profile"
    guards = [requires_role(Role.STAFF)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False
    PAGE = ("scheduling/staff_profile.html", "scheduling/partials/_staff_profile_form.html")

    @get("/", name="staff-profile")
    async def show(self, request: HTMXRequest, viewer: ViewerDep, schedules: Schedules) -> HTMXTemplate:
        profile = await schedules.profile(viewer.id)
        values = {
            "display_name": profile.display_name if profile else viewer.name,
            "bio": profile.bio if profile else "",
        }
        return render_form(request, *self.PAGE, FormState(values=values), saved=profile is not None)

    @post("/")
    async def save(
        self, request: HTMXRequest, viewer: ViewerDep, actor: ActorDep, schedules: Schedules
    ) -> Response[Any]:
        data, state = parse_form(StaffProfileForm, await request.form())
        if data is None:
            return render_form(request, *self.PAGE, state, saved=False, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        changed = await schedules.set_profile(viewer.id, display_name=data.display_name, bio=data.bio, actor=actor)
        message = "Saved: this is how clients see you." if changed else "Unchanged."
        if request.htmx:
            return render_form(request, *self.PAGE, state, saved=True, saved_message=message)
        flash(request, message, "ok")
        return redirect(request, request.app.route_reverse("staff-profile"))
