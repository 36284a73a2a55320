"""One appointment at the front desk (``/staff/appointments/{id}``): its panel and the
actions arrived, completed, no-show and cancel, each against the version the page
showed (changed meanwhile on another tablet: ``409`` with the appointment as it is now)."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.accounts.guards import requires_role
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.db import WRITES
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking import BookingService, NotPerformedError, UnavailableTimeError
from smartscheduling.scheduling.booking_controllers import (
    Bookings,
    Links,
    Picker,
    TimeZones,
    form_version,
    instant_text,
    staff_choice,
    start_of,
)
from smartscheduling.scheduling.models import AppointmentStatus
from smartscheduling.scheduling.schemas import price_text
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.staff.appointments import DeskService, Panel
from smartscheduling.staff.controllers import STAFF_ROLES, Businesses, who
from smartscheduling.staff.schemas import MarkForm, VersionForm
from smartscheduling.web.errors import refusal_answer
from smartscheduling.web.forms import parse_form
from smartscheduling.web.http import redirect

Desk = NamedDependency[DeskService]


async def the_panel(desk: DeskService, appointment_id: uuid.UUID) -> Panel:
    panel = await desk.panel(appointment_id)
    if panel is None:
        raise NotFoundException("There is no such appointment.")
    return panel


#: What an htmx request tells the page after a change: the day view's grid refreshes at once.
CHANGED = {"HX-Trigger": "appointments-changed"}


def in_panel(request: HTMXRequest) -> bool:
    """The request comes from the day view's side panel (htmx): it gets the panel alone."""
    return bool(request.htmx and request.htmx.target == "panel")


def panel_page(
    request: HTMXRequest, panel: Panel, business: Any, now: datetime.datetime, **answer: Any
) -> HTMXTemplate:
    """The appointment's page, or (``in_panel``) its panel alone."""
    context = {
        "panel": panel, "zones": TimeZones.of(business, None), "Status": AppointmentStatus, "now": now,
        "price_text": price_text, "in_panel": in_panel(request), "done": answer.pop("done", None),
        "day": business.local_date(panel.appointment.starts_at),
        "refusal": answer.pop("refusal", None), "who": who(panel.client) if panel.client else "Anonymous client",
        "moves": [
            (datetime.datetime.fromisoformat(move["from"]), datetime.datetime.fromisoformat(move["to"]), move["by"])
            for move in panel.appointment.history
        ],
    }  # fmt: skip
    template = "staff/partials/_panel.html" if context["in_panel"] else "staff/appointment.html"
    return HTMXTemplate(template_name=template, context=context, **answer)


class AppointmentDeskController(Controller):
    """The front desk's actions on one appointment."""

    path = "/staff/appointments/{appointment_id:uuid}"
    guards = [requires_role(*STAFF_ROLES)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-appointment", opt=WRITES)
    async def show(
        self, *, request: HTMXRequest, appointment_id: FromPath[uuid.UUID], desk: Desk, businesses: Businesses,
        actor: ActorDep, now: Now,
    ) -> HTMXTemplate:  # fmt: skip
        panel = await the_panel(desk, appointment_id)
        await desk.viewed(panel, actor=actor)
        return panel_page(request, panel, await businesses.current(), now)

    @staticmethod
    async def _act(
        request: HTMXRequest, appointment_id: uuid.UUID, *, desk: DeskService, businesses: BusinessService,
        now: datetime.datetime, action: Any, message: str,
    ) -> Response[Any]:  # fmt: skip
        """Run ``action(business, panel)``; refused: the panel as it is now, with why."""
        panel = await the_panel(desk, appointment_id)
        business = await businesses.current()
        try:
            await action(business, panel)
        except RefusedError as refusal:
            current = await the_panel(desk, appointment_id)
            return panel_page(request, current, business, now, refusal=refusal, **refusal_answer(refusal))
        if in_panel(request):
            return panel_page(
                request, await the_panel(desk, appointment_id), business, now, done=message, headers=CHANGED
            )
        flash(request, message, "ok")
        return redirect(request, request.app.route_reverse("staff-appointment", appointment_id=appointment_id))

    @post("/status", name="mark-appointment")
    async def mark(
        self, *, request: HTMXRequest, appointment_id: FromPath[uuid.UUID], desk: Desk, businesses: Businesses,
        actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        data, _ = parse_form(MarkForm, await request.form())
        if data is None:
            raise ValidationException("Choose one of the buttons, on the page as it is now.")
        status = AppointmentStatus(data.status)

        async def action(business: Any, panel: Panel) -> None:
            await desk.mark(business, panel, status, version=data.version, now=now, actor=actor)

        return await self._act(
            request, appointment_id, desk=desk, businesses=businesses, now=now, action=action,
            message=f"Marked: {status.label}.",
        )  # fmt: skip

    @post("/cancel", name="staff-cancel-appointment")
    async def cancel(
        self, *, request: HTMXRequest, appointment_id: FromPath[uuid.UUID], desk: Desk, businesses: Businesses,
        actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        data, _ = parse_form(VersionForm, await request.form())
        if data is None:
            raise ValidationException("This page is out of date: reload it.")

        async def action(business: Any, panel: Panel) -> None:
            await desk.cancel(business, panel, version=data.version, now=now, actor=actor)

        return await self._act(
            request, appointment_id, desk=desk, businesses=businesses, now=now, action=action,
            message="Cancelled: the client is told.",
        )  # fmt: skip

    @get("/reschedule", name="staff-reschedule")
    async def reschedule_page(
        self,
        *,
        request: HTMXRequest,
        appointment_id: FromPath[uuid.UUID],
        desk: Desk,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
        staff: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
        day: FromQuery[datetime.date | None] = None,
        first: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
    ) -> HTMXTemplate:
        """Another time (and staff member, if wanted) for a booked appointment: the same
        picker as booking, the appointment's own time counted free; then a confirm step."""
        panel = await the_panel(desk, appointment_id)
        business = await businesses.current()
        chosen = staff_choice(staff) if staff else panel.appointment.staff_id
        performers = await bookings.performers(panel.offering)
        candidates = [person for person in performers if person.id == chosen]
        if not candidates:
            raise NotPerformedError
        context = await move_context(request, panel, business, bookings, performers=performers, chosen=chosen)
        if start is None:
            context["picker"] = await Picker.of(
                bookings.at_desk(), business, panel.offering, candidates, now=now, first=first, day=day,
                ignoring=panel.appointment.id,
            )  # fmt: skip
            partial = request.htmx and request.htmx.target == "picker"
            template = "scheduling/partials/_picker.html" if partial else "staff/reschedule.html"
            return HTMXTemplate(template_name=template, context=context)
        wanted = start_of(start)
        refusal = await bookings.at_desk().check(
            business, panel.offering, candidates, wanted, now=now, ignoring=panel.appointment.id
        )
        return confirm_step("staff/reschedule_confirm.html", context, wanted, refusal)

    @post("/reschedule")
    async def reschedule(
        self, *, request: HTMXRequest, appointment_id: FromPath[uuid.UUID], desk: Desk, bookings: Bookings,
        businesses: Businesses, actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        form = await request.form()
        panel = await the_panel(desk, appointment_id)
        business = await businesses.current()
        chosen, wanted = staff_choice(form.get("staff")), start_of(form.get("start"))
        try:
            moved = await desk.reschedule(
                business, panel, wanted, staff_id=chosen, version=form_version(form.get("version")), now=now,
                actor=actor,
            )  # fmt: skip
        except UnavailableTimeError as refusal:
            current = await the_panel(desk, appointment_id)
            performers = await bookings.performers(current.offering)
            context = await move_context(request, current, business, bookings, performers=performers, chosen=chosen)
            return confirm_step("staff/reschedule_confirm.html", context, wanted, refusal)
        except RefusedError as refusal:
            current = await the_panel(desk, appointment_id)
            return panel_page(request, current, business, now, refusal=refusal, **refusal_answer(refusal))
        zones = TimeZones.of(business, None)
        flash(request, f"Moved to {zones.moment(moved.starts_at)}: the client is told.", "ok")
        day = business.local_date(moved.starts_at).isoformat()
        return redirect(request, f"{request.app.route_reverse('staff-day')}?{urlencode({'day': day})}")


async def move_context(
    request: HTMXRequest, panel: Panel, business: Any, bookings: BookingService, *, performers: Any, chosen: Any
) -> dict[str, Any]:
    """What the reschedule steps show: the appointment, who could take it, the picker's links."""
    base = request.app.route_reverse("staff-reschedule", appointment_id=panel.appointment.id)
    query = urlencode({"staff": str(chosen)})
    shown = await bookings.shown(performers)
    return {
        "panel": panel, "zones": TimeZones.of(business, None), "business": business, "offering": panel.offering,
        "performers": performers, "shown": shown, "chosen": chosen, "staff_name": shown[chosen].name,
        "links": Links(f"{base}?{query}&", f"{base}?{query}&"), "base": base, "staff_value": str(chosen),
        "staff_links": [
            (f"{base}?{urlencode({'staff': str(person.id)})}", shown[person.id].name, person.id == chosen)
            for person in performers
        ],
        "who": who(panel.client) if panel.client else "Anonymous client",
    }  # fmt: skip


def confirm_step(
    template: str, context: dict[str, Any], start: datetime.datetime, refusal: RefusedError | None
) -> HTMXTemplate:
    """A confirm step: the time checked again; refused, why, with the nearest free times."""
    context |= {
        "start": start, "start_value": instant_text(start), "refusal": refusal,
        "nearest": getattr(refusal, "nearest", []),
    }  # fmt: skip
    answer = refusal_answer(refusal) if refusal else {}
    return HTMXTemplate(template_name=template, context=context, **answer)
