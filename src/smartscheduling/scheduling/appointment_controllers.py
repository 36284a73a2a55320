"""The client's appointments in the Profile (``/profile/appointments``): upcoming and
past; moving one to another time and cancelling it, each behind a confirm page (a GET
never changes anything, so no mail scanner can), up to the business's cut-off."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.accounts.guards import requires_login
from smartscheduling.accounts.identity import Viewer, ViewerDep
from smartscheduling.accounts.models import User
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking import AppointmentView, BookingService, split_by_time
from smartscheduling.scheduling.booking_controllers import (
    Links,
    Picker,
    TimeZones,
    form_version,
    instant_text,
    start_of,
)
from smartscheduling.scheduling.models import AppointmentStatus, Business, Offering
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.web.errors import refusal_answer
from smartscheduling.web.http import redirect

Bookings = NamedDependency[BookingService]
Businesses = NamedDependency[BusinessService]


class MyAppointmentsController(Controller):
    """The client's appointments in the Profile: ``/profile/appointments``."""

    path = "/profile/appointments"
    guards = [requires_login]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="my-appointments")
    async def list(self, viewer: ViewerDep, bookings: Bookings, businesses: Businesses, now: Now) -> HTMXTemplate:
        business = await businesses.current()
        upcoming, past = split_by_time(await bookings.appointments_of(viewer.id), now)
        cutoff = datetime.timedelta(hours=business.cutoff_hours)
        context = {
            "upcoming": upcoming, "past": past, "business": business, "zones": TimeZones.of(business, viewer),
            "changeable": lambda view: view.appointment.status is AppointmentStatus.BOOKED
            and now <= view.appointment.starts_at - cutoff,
            "Status": AppointmentStatus,
        }  # fmt: skip
        return HTMXTemplate(template_name="scheduling/my_appointments.html", context=context)

    @staticmethod
    async def _mine(bookings: BookingService, viewer: Viewer, appointment_id: uuid.UUID) -> AppointmentView:
        view = await bookings.appointment_of(viewer.id, appointment_id)
        if view is None:  # someone else's is as unknown as one that does not exist
            raise NotFoundException("There is no such appointment among yours.")
        return view

    @staticmethod
    def _cancel_page(
        view: AppointmentView, business: Business, viewer: Viewer, *, refusal: RefusedError | None = None
    ) -> HTMXTemplate:
        context = {"view": view, "business": business, "zones": TimeZones.of(business, viewer), "refusal": refusal}
        answer = refusal_answer(refusal) if refusal else {}
        return HTMXTemplate(template_name="scheduling/cancel.html", context=context, **answer)

    async def _moving(
        self, bookings: BookingService, businesses: BusinessService, viewer: Viewer, appointment_id: uuid.UUID
    ) -> tuple[AppointmentView, Business, Offering, list[User]]:
        view = await self._mine(bookings, viewer, appointment_id)
        business = await businesses.current()
        offering = await bookings.any_offering(view.appointment.offering_id)
        staff = [person for person in await bookings.performers(offering) if person.id == view.appointment.staff_id]
        return view, business, offering, staff

    @get("/{appointment_id:uuid}/reschedule", name="reschedule-appointment")
    async def reschedule_page(
        self,
        *,
        request: HTMXRequest,
        appointment_id: FromPath[uuid.UUID],
        viewer: ViewerDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
        day: FromQuery[datetime.date | None] = None,
        first: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
    ) -> HTMXTemplate:
        """The same service with the same person: another day and time."""
        view, business, offering, staff = await self._moving(bookings, businesses, viewer, appointment_id)
        here = request.app.route_reverse("reschedule-appointment", appointment_id=view.appointment.id)
        confirm = request.app.route_reverse("reschedule-confirm", appointment_id=view.appointment.id)
        picker = await Picker.of(
            bookings, business, offering, staff, now=now, first=first, day=day, ignoring=view.appointment.id
        )
        context = {
            "view": view, "business": business, "offering": offering, "zones": TimeZones.of(business, viewer),
            "picker": picker, "links": Links(f"{here}?", f"{confirm}?"), "staff": staff,
        }  # fmt: skip
        partial = request.htmx and request.htmx.target == "picker"
        return HTMXTemplate(
            template_name="scheduling/partials/_picker.html" if partial else "scheduling/reschedule.html",
            context=context,
        )

    @staticmethod
    def _reschedule_confirm(
        request: HTMXRequest,
        view: AppointmentView,
        business: Business,
        viewer: Viewer,
        start: datetime.datetime,
        *,
        refusal: RefusedError | None = None,
    ) -> HTMXTemplate:
        confirm = request.app.route_reverse("reschedule-confirm", appointment_id=view.appointment.id)
        context = {
            "view": view, "business": business, "zones": TimeZones.of(business, viewer), "start": start,
            "start_value": instant_text(start), "refusal": refusal, "nearest": getattr(refusal, "nearest", []),
            "links": Links("", f"{confirm}?"),
        }  # fmt: skip
        answer = refusal_answer(refusal) if refusal else {}
        return HTMXTemplate(template_name="scheduling/reschedule_confirm.html", context=context, **answer)

    @get("/{appointment_id:uuid}/reschedule/confirm", name="reschedule-confirm")
    async def reschedule_confirm(
        self,
        *,
        request: HTMXRequest,
        appointment_id: FromPath[uuid.UUID],
        viewer: ViewerDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
        start: FromQuery[str | None] = None,
    ) -> HTMXTemplate:
        view, business, offering, staff = await self._moving(bookings, businesses, viewer, appointment_id)
        wanted = start_of(start)
        refusal = await bookings.check(business, offering, staff, wanted, now=now, ignoring=view.appointment.id)
        return self._reschedule_confirm(request, view, business, viewer, wanted, refusal=refusal)

    @post("/{appointment_id:uuid}/reschedule/confirm")
    async def reschedule(
        self,
        *,
        request: HTMXRequest,
        appointment_id: FromPath[uuid.UUID],
        viewer: ViewerDep,
        actor: ActorDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
    ) -> Response[Any]:
        view = await self._mine(bookings, viewer, appointment_id)
        business = await businesses.current()
        form = await request.form()
        wanted = start_of(form.get("start"))
        try:
            appointment = await bookings.reschedule(
                business, view, viewer.user, wanted, version=form_version(form.get("version")), now=now, actor=actor
            )
        except RefusedError as refusal:
            return self._reschedule_confirm(request, view, business, viewer, wanted, refusal=refusal)
        zones = TimeZones.of(business, viewer)
        flash(request, f"Moved: {view.offering}, now {zones.moment(appointment.starts_at)}.", "ok")
        return redirect(request, request.app.route_reverse("my-appointments"))

    @get("/{appointment_id:uuid}/cancel", name="cancel-appointment")
    async def cancel_page(
        self, appointment_id: FromPath[uuid.UUID], viewer: ViewerDep, bookings: Bookings, businesses: Businesses
    ) -> HTMXTemplate:
        """A page, not a link that cancels: a mail client's link scanner changes nothing."""
        return self._cancel_page(await self._mine(bookings, viewer, appointment_id), await businesses.current(), viewer)

    @post("/{appointment_id:uuid}/cancel")
    async def cancel(
        self,
        *,
        request: HTMXRequest,
        appointment_id: FromPath[uuid.UUID],
        viewer: ViewerDep,
        actor: ActorDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
    ) -> Response[Any]:
        view = await self._mine(bookings, viewer, appointment_id)
        business = await businesses.current()
        version = form_version((await request.form()).get("version"))
        try:
            await bookings.cancel(business, view, viewer.user, version=version, now=now, actor=actor)
        except RefusedError as refusal:
            return self._cancel_page(view, business, viewer, refusal=refusal)
        zones = TimeZones.of(business, viewer)
        flash(request, f"Cancelled: {view.offering}, {zones.moment(view.appointment.starts_at)}.", "ok")
        return redirect(request, request.app.route_reverse("my-appointments"))
