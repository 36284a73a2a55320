"""Clients book (``/book``: service → staff or anyone → day → time → confirm) and keep
their appointments (``/profile/appointments``: upcoming and past, cancel behind a
confirm page). Every step is a real link or form; htmx swaps the day's times in place."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.accounts.guards import anyone, requires_login
from smartscheduling.accounts.identity import Viewer, ViewerDep, VisitorDep
from smartscheduling.audit.service import ActorDep
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking import (
    AppointmentView,
    BookingService,
    FreeTime,
    NotOfferedError,
    NotPerformedError,
    UnavailableTimeError,
    booking_days,
    split_by_time,
)
from smartscheduling.scheduling.models import AppointmentStatus, Business, Offering
from smartscheduling.scheduling.schemas import price_text
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.web.errors import refusal_answer
from smartscheduling.web.http import redirect

Bookings = NamedDependency[BookingService]
Businesses = NamedDependency[BusinessService]
Now = NamedDependency[datetime.datetime]
#: How many days the day list shows at a time.
DAYS_SHOWN = 14
ANYONE = "anyone"


@dataclass(frozen=True, slots=True)
class Clock:
    """How a page shows instants: in the client's zone (their profile's, else the
    business's), and the business's zone when the two differ."""

    zone: ZoneInfo
    business_zone: ZoneInfo

    @classmethod
    def of(cls, business: Business, visitor: Viewer | None) -> Clock:
        business_zone = ZoneInfo(business.time_zone)
        zone = ZoneInfo(visitor.time_zone) if visitor and visitor.time_zone else business_zone
        return cls(zone, business_zone)

    @property
    def differs(self) -> bool:
        return self.zone.key != self.business_zone.key

    def time(self, instant: datetime.datetime) -> str:
        return f"{instant.astimezone(self.zone):%H:%M}"

    def day(self, day: datetime.date) -> str:
        return f"{day:%A} {day.day} {day:%B}"

    def moment(self, instant: datetime.datetime) -> str:
        """``Monday 7 December 2026, 10:00``, in the client's zone."""
        local = instant.astimezone(self.zone)
        return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"

    def at_business(self, instant: datetime.datetime) -> str:
        return f"{instant.astimezone(self.business_zone):%H:%M}"


def staff_choice(raw: str | None) -> uuid.UUID | None:
    """The ``staff`` of a link or form: ``anyone`` (``None``) or one staff member's id."""
    if raw in (None, "", ANYONE):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotPerformedError from None


def start_of(raw: str | None) -> datetime.datetime:
    """The ``start`` of a link or form: an ISO instant with its offset, as the time
    links write it. Anything else is no time that is offered."""
    try:
        start = datetime.datetime.fromisoformat(raw or "")
    except ValueError:
        raise NotOfferedError from None
    if start.tzinfo is None:
        raise NotOfferedError
    return start.astimezone(datetime.UTC)


def instant_text(instant: datetime.datetime) -> str:
    return instant.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


class BookingController(Controller):
    """``/book``: open to everyone; only the booking itself needs an account."""

    path = "/book"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="book")
    async def offerings(self, bookings: Bookings, businesses: Businesses) -> HTMXTemplate:
        context = {
            "offerings": await bookings.bookable(),
            "currency": (await businesses.current()).currency,
            "price_text": price_text,
        }
        return HTMXTemplate(template_name="scheduling/book.html", context=context)

    @get("/{offering_id:uuid}", name="book-offering")
    async def choose(
        self,
        *,
        request: HTMXRequest,
        offering_id: FromPath[uuid.UUID],
        visitor: VisitorDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
        staff: FromQuery[str | None] = None,
        day: FromQuery[datetime.date | None] = None,
        first: Annotated[datetime.date | None, QueryParameter(name="from")] = None,
    ) -> HTMXTemplate:
        """Who (when nobody is chosen yet), then the days with free times and, once a
        day is chosen, its times. For htmx, the day list and times alone."""
        offering = await bookings.offering(offering_id)
        business = await businesses.current()
        performers = await bookings.performers(offering)
        context: dict[str, Any] = {
            "offering": offering, "business": business, "performers": performers, "staff": staff,
            "clock": Clock.of(business, visitor), "price_text": price_text,
        }  # fmt: skip
        if staff is None and len(performers) > 1:
            return HTMXTemplate(template_name="scheduling/book_staff.html", context=context)
        chosen = staff_choice(staff)
        candidates = await bookings.candidates(offering, chosen)
        days = booking_days(business, now)
        start = first if first in days else days[0]
        shown = [d for d in days if start <= d][:DAYS_SHOWN]
        free = await bookings.free_times(business, offering, candidates, shown, now=now)
        zone = ZoneInfo(business.time_zone)
        by_day: dict[datetime.date, list[FreeTime]] = {d: [] for d in shown}
        for option in free:
            by_day[option.start.astimezone(zone).date()].append(option)
        if day is None or day not in by_day:
            day = next((d for d, options in by_day.items() if options), None)
        later = [d for d in days if d > shown[-1]]
        earlier = [d for d in days if d < start]
        context |= {
            "chosen": chosen,
            "staff_value": ANYONE if chosen is None else str(chosen),
            "staff_name": next((p.name for p in candidates if p.id == chosen), None),
            "by_day": by_day,
            "day": day,
            "times": by_day.get(day, []) if day else [],
            "later": later[0] if later else None,
            "earlier": earlier[-DAYS_SHOWN] if len(earlier) >= DAYS_SHOWN else (earlier[0] if earlier else None),
            "first": start,
            "instant_text": instant_text,
        }
        partial = request.htmx and request.htmx.target == "picker"
        return HTMXTemplate(
            template_name="scheduling/partials/_picker.html" if partial else "scheduling/book_times.html",
            context=context,
        )

    async def _confirm_page(
        self,
        *,
        offering: Offering,
        business: Business,
        visitor: Viewer | None,
        bookings: BookingService,
        staff: uuid.UUID | None,
        start: datetime.datetime,
        refusal: RefusedError | None = None,
    ) -> HTMXTemplate:
        candidates = await bookings.candidates(offering, staff)
        query = urlencode({"staff": ANYONE if staff is None else str(staff), "start": instant_text(start)})
        context = {
            "offering": offering, "business": business, "clock": Clock.of(business, visitor),
            "staff_value": ANYONE if staff is None else str(staff),
            "staff_name": next((p.name for p in candidates if p.id == staff), None),
            "start": start, "start_value": instant_text(start), "query": query, "visitor": visitor,
            "refusal": refusal, "nearest": getattr(refusal, "nearest", []), "price_text": price_text,
            "instant_text": instant_text,
        }  # fmt: skip
        answer = refusal_answer(refusal) if refusal else {}
        return HTMXTemplate(template_name="scheduling/book_confirm.html", context=context, **answer)

    @get("/{offering_id:uuid}/confirm", name="book-confirm")
    async def confirm_page(
        self,
        *,
        offering_id: FromPath[uuid.UUID],
        visitor: VisitorDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
        staff: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
    ) -> HTMXTemplate:
        """What will be booked, checked again now (a time is never held for anyone)."""
        offering = await bookings.offering(offering_id)
        business = await businesses.current()
        chosen, wanted = staff_choice(staff), start_of(start)
        candidates = await bookings.candidates(offering, chosen)
        day = [wanted.astimezone(ZoneInfo(business.time_zone)).date()]
        free = await bookings.free_times(business, offering, candidates, day, now=now)
        page = {"offering": offering, "business": business, "visitor": visitor, "bookings": bookings}
        if not any(option.start == wanted for option in free):
            refusal = await bookings.unavailable(business, offering, candidates, wanted, now=now)
            return await self._confirm_page(**page, staff=chosen, start=wanted, refusal=refusal)
        return await self._confirm_page(**page, staff=chosen, start=wanted)

    @post("/{offering_id:uuid}/confirm", guards=[requires_login])
    async def book(
        self,
        *,
        request: HTMXRequest,
        offering_id: FromPath[uuid.UUID],
        viewer: ViewerDep,
        actor: ActorDep,
        bookings: Bookings,
        businesses: Businesses,
        now: Now,
    ) -> Response[Any]:
        form = await request.form()
        offering = await bookings.offering(offering_id)
        business = await businesses.current()
        chosen, wanted = staff_choice(form.get("staff")), start_of(form.get("start"))
        try:
            appointment = await bookings.book(
                business, offering, viewer.user, wanted, staff_id=chosen, now=now, actor=actor
            )
        except UnavailableTimeError as refusal:
            page = {"offering": offering, "business": business, "visitor": viewer, "bookings": bookings}
            return await self._confirm_page(**page, staff=chosen, start=wanted, refusal=refusal)
        clock = Clock.of(business, viewer)
        flash(request, f"Booked: {offering.name}, {clock.moment(appointment.starts_at)}.", "ok")
        return redirect(request, request.app.route_reverse("my-appointments"))


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
            "upcoming": upcoming, "past": past, "business": business, "clock": Clock.of(business, viewer),
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
        context = {"view": view, "business": business, "clock": Clock.of(business, viewer), "refusal": refusal}
        answer = refusal_answer(refusal) if refusal else {}
        return HTMXTemplate(template_name="scheduling/cancel.html", context=context, **answer)

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
        try:
            version = int((await request.form()).get("version", ""))
        except ValueError:
            version = 0
        try:
            await bookings.cancel(business, view, viewer.user, version=version, now=now, actor=actor)
        except RefusedError as refusal:
            return self._cancel_page(view, business, viewer, refusal=refusal)
        clock = Clock.of(business, viewer)
        flash(request, f"Cancelled: {view.offering}, {clock.moment(view.appointment.starts_at)}.", "ok")
        return redirect(request, request.app.route_reverse("my-appointments"))
