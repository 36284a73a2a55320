"""The front desk's working surface: the day view (``/staff``), one staff member's week
(``/staff/week/{id}``) and booking on behalf of a client (``/staff/book``: client,
service, staff, time, confirm; every step a real link or form, htmx swapping the day's
times in place). Booking here is online booking's, through the same availability and
the same never-overlap guarantee, without the minimum notice."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.accounts.guards import requires_role
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.scheduling.booking import BookingService, UnavailableTimeError
from smartscheduling.scheduling.booking_controllers import (
    Bookings,
    Links,
    Picker,
    TimeZones,
    instant_text,
    staff_choice,
    staff_text,
    start_of,
)
from smartscheduling.scheduling.models import AppointmentStatus, Business, Offering
from smartscheduling.scheduling.schemas import price_text
from smartscheduling.staff.controllers import STAFF_ROLES, Businesses, Clients, who
from smartscheduling.staff.dayview import CellKind, DayViewService, Grid
from smartscheduling.staff.desk_controllers import confirm_step
from smartscheduling.web.http import redirect

DayViews = NamedDependency[DayViewService]
#: How often an open day view asks for the grid again (seconds): two tablets agree within it.
REFRESH_SECONDS = 15


def grid_page(
    request: HTMXRequest,
    grid: Grid,
    business: Business,
    *,
    day: datetime.date,
    step: int,
    now: datetime.datetime,
    **more: Any,
) -> HTMXTemplate:
    """The day or week page (``step``: days from one page to the next); for htmx's
    refresh of the grid, the grid alone."""
    context = {
        "earlier": day - datetime.timedelta(days=step), "later": day + datetime.timedelta(days=step),
        "grid": grid, "day": day, "today": business.local_date(now), "zones": TimeZones.of(business, None),
        "Kind": CellKind, "Status": AppointmentStatus, "who": who, "refresh": REFRESH_SECONDS,
        "instant_text": instant_text, **more,
    }  # fmt: skip
    partial = request.htmx and request.htmx.target == "day-grid"
    return HTMXTemplate(template_name="staff/partials/_grid.html" if partial else "staff/day.html", context=context)


class DayController(Controller):
    path = "/staff"
    guards = [requires_role(*STAFF_ROLES)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-day")
    async def day_view(
        self,
        *,
        request: HTMXRequest,
        days: DayViews,
        businesses: Businesses,
        now: Now,
        day: FromQuery[datetime.date | None] = None,
    ) -> HTMXTemplate:
        """Everyone's day (today unless ``day``), a column per staff member."""
        business = await businesses.current()
        day = day or business.local_date(now)
        grid = await days.day(business, day, now=now)
        here = request.app.route_reverse("staff-day")
        return grid_page(request, grid, business, day=day, now=now, week_of=None, here=here, step=1)

    @get("/week/{user_id:uuid}", name="staff-week-view")
    async def week_view(
        self,
        *,
        request: HTMXRequest,
        user_id: FromPath[uuid.UUID],
        days: DayViews,
        businesses: Businesses,
        now: Now,
        day: FromQuery[datetime.date | None] = None,
    ) -> HTMXTemplate:
        """One staff member's week (Monday to Sunday), a column per day."""
        staff = dict(await days.staff())
        if user_id not in staff:
            raise NotFoundException("There is no such staff member.")
        business = await businesses.current()
        day = day or business.local_date(now)
        grid = await days.week(business, user_id, day, now=now)
        here = request.app.route_reverse("staff-week-view", user_id=user_id)
        return grid_page(
            request, grid, business, day=day, now=now, week_of=(user_id, staff[user_id]), here=here, step=7
        )


async def desk_offering(bookings: BookingService, offering_id: uuid.UUID) -> Offering:
    """A service to book at the desk: an unknown id (tampered) is not found; an archived
    service is refused with why."""
    if await bookings.session.get(Offering, offering_id) is None:
        raise NotFoundException("There is no such service.")
    return await bookings.offering(offering_id)


def wizard_url(request: HTMXRequest, **choice: Any) -> str:
    """The booking step for what is chosen so far (``None``: not yet)."""
    query = urlencode({name: str(value) for name, value in choice.items() if value is not None})
    book = request.app.route_reverse("staff-book")
    return f"{book}?{query}" if query else book


async def wizard_context(
    request: HTMXRequest, business: Business, days: DayViewService, choice: dict[str, Any]
) -> dict[str, Any]:
    """What every step shows: the choices so far (``url(**change)``: the step after a
    change of them) and the chosen staff member's name."""
    context: dict[str, Any] = {
        "zones": TimeZones.of(business, None), "business": business, "choice": choice, "who": who,
        "url": lambda **change: wizard_url(request, **(choice | change)), "price_text": price_text,
        "staff_value": choice["staff"],
    }  # fmt: skip
    chosen = staff_choice(choice["staff"])
    if chosen is not None:
        names = dict(await days.staff())
        if chosen not in names:
            raise NotFoundException("There is no such staff member.")
        context["staff_name"] = names[chosen]
    return context


class StaffBookingController(Controller):
    """``/staff/book``: each step fills one missing choice, then a confirm step checks
    the time again (nothing is held for anyone)."""

    path = "/staff/book"
    guards = [requires_role(*STAFF_ROLES)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-book")
    async def step(
        self,
        *,
        request: HTMXRequest,
        clients: Clients,
        bookings: Bookings,
        days: DayViews,
        businesses: Businesses,
        now: Now,
        client: FromQuery[uuid.UUID | None] = None,
        offering: FromQuery[uuid.UUID | None] = None,
        staff: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
        day: FromQuery[datetime.date | None] = None,
        first: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
        text: Annotated[str, QueryParameter(name="q", max_length=100)] = "",
    ) -> HTMXTemplate:
        """Who it is for, then the service, then (unless an empty slot chose it) the time,
        then the confirm step."""
        business = await businesses.current()
        wanted = start_of(start) if start else None
        choice = {"client": client, "offering": offering, "staff": staff_text(staff_choice(staff)), "start": start}
        context = await wizard_context(request, business, days, choice) | {"start": wanted}
        person = await clients.get(client) if client else None
        if client and person is None:
            raise NotFoundException("There is no such client.")
        if person is None:
            found = await clients.search(text, after=None, now=now, region=business.country) if text else None
            context |= {"query": text, "page": found}
            return HTMXTemplate(template_name="staff/book_client.html", context=context)
        context["client"] = person
        chosen = staff_choice(staff)
        if offering is None:
            context["offerings"] = await self._offerings(bookings, business, chosen, wanted, now=now)
            return HTMXTemplate(template_name="staff/book_offering.html", context=context)
        service = await desk_offering(bookings, offering)
        candidates = await bookings.candidates(service, chosen)
        base = wizard_url(request, client=client, offering=offering, staff=choice["staff"])
        context |= {"offering": service, "links": Links(f"{base}&", f"{base}&")}
        desk = bookings.at_desk()
        if wanted is None:
            shown = await bookings.shown(await bookings.performers(service))
            context["staff_links"] = [(wizard_url(request, **(choice | {"staff": None})), "Anyone", chosen is None)] + [
                (wizard_url(request, **(choice | {"staff": person})), card.name, person == chosen)
                for person, card in shown.items()
            ]
            context["picker"] = await Picker.of(desk, business, service, candidates, now=now, first=first, day=day)
            partial = request.htmx and request.htmx.target == "picker"
            template = "scheduling/partials/_picker.html" if partial else "staff/book_times.html"
            return HTMXTemplate(template_name=template, context=context)
        refusal = await desk.check(business, service, candidates, wanted, now=now)
        return confirm_step("staff/book_confirm.html", context, wanted, refusal)

    @staticmethod
    async def _offerings(
        bookings: BookingService,
        business: Business,
        staff_id: uuid.UUID | None,
        start: datetime.datetime | None,
        *,
        now: datetime.datetime,
    ) -> list[Offering]:
        """What can be booked: with ``staff_id`` if chosen, at ``start`` if chosen."""
        desk, found = bookings.at_desk(), []
        for offering in await bookings.bookable():
            staff = [p for p in await bookings.performers(offering) if staff_id is None or p.id == staff_id]
            if not staff:
                continue
            if start is not None:
                day = [business.local_date(start)]
                free = await desk.free_times(business, offering, staff, day, now=now)
                if not any(option.start == start for option in free):
                    continue
            found.append(offering)
        return found

    @post("/")
    async def book(
        self,
        *,
        request: HTMXRequest,
        clients: Clients,
        bookings: Bookings,
        days: DayViews,
        businesses: Businesses,
        actor: ActorDep,
        now: Now,
    ) -> Response[Any]:
        form = await request.form()
        business = await businesses.current()
        try:
            client_id, offering_id = uuid.UUID(form.get("client", "")), uuid.UUID(form.get("offering", ""))
        except ValueError:
            raise NotFoundException("There is no such client or service.") from None
        person = await clients.get(client_id)
        if person is None:
            raise NotFoundException("There is no such client.")
        service = await desk_offering(bookings, offering_id)
        chosen, wanted = staff_choice(form.get("staff")), start_of(form.get("start"))
        try:
            appointment = await bookings.at_desk().book(
                business, service, person, wanted, staff_id=chosen, now=now, actor=actor
            )
        except UnavailableTimeError as refusal:
            choice = {"client": client_id, "offering": offering_id, "staff": staff_text(chosen), "start": None}
            base = wizard_url(request, **choice)
            context = await wizard_context(request, business, days, choice)
            context |= {"client": person, "offering": service, "links": Links(f"{base}&", f"{base}&")}
            return confirm_step("staff/book_confirm.html", context, wanted, refusal)
        zones = TimeZones.of(business, None)
        flash(request, f"Booked: {service.name} for {who(person)}, {zones.moment(appointment.starts_at)}.", "ok")
        day = business.local_date(appointment.starts_at)
        return redirect(request, f"{request.app.route_reverse('staff-day')}?{urlencode({'day': day.isoformat()})}")
