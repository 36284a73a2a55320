"""Clients book at ``/book``: service → staff or anyone → day → time → confirm. Every
step is a real link or form; htmx swaps the day's times in place. The picker of days
and times (``Picker``, ``Links``) and the way times are shown (``TimeZones``) serve
moving an appointment too (``appointment_controllers``)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.accounts.guards import anyone, requires_login
from smartscheduling.accounts.identity import Viewer, ViewerDep, VisitorDep
from smartscheduling.accounts.models import User
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking import (
    BookingService,
    FreeTime,
    NotOfferedError,
    NotPerformedError,
    UnavailableTimeError,
    booking_days,
)
from smartscheduling.scheduling.models import Business, Offering
from smartscheduling.scheduling.schemas import price_text
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.web.errors import refusal_answer
from smartscheduling.web.http import redirect

Bookings = NamedDependency[BookingService]
Businesses = NamedDependency[BusinessService]
#: How many days the day list shows at a time.
DAYS_SHOWN = 14
ANYONE = "anyone"


@dataclass(frozen=True, slots=True)
class TimeZones:
    """How a page shows instants: in the client's zone (their profile's, else the
    business's), and the business's zone when the two differ."""

    zone: ZoneInfo
    business_zone: ZoneInfo

    @classmethod
    def of(cls, business: Business, visitor: Viewer | None) -> TimeZones:
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


def staff_text(staff: uuid.UUID | None) -> str:
    return ANYONE if staff is None else str(staff)


def booking_links(request: HTMXRequest, offering: Offering, staff: uuid.UUID | None) -> Links:
    """The picker's links while booking ``offering`` with ``staff`` (``None``: anyone)."""
    query = urlencode({"staff": staff_text(staff)})
    days = request.app.route_reverse("book-offering", offering_id=offering.id)
    times = request.app.route_reverse("book-confirm", offering_id=offering.id)
    return Links(f"{days}?{query}&", f"{times}?{query}&")


def form_version(raw: object) -> int:
    """The version a form was opened at (``0``, which no row has, when it is no number)."""
    try:
        return int(str(raw))
    except ValueError:
        return 0


def instant_text(instant: datetime.datetime) -> str:
    return instant.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class Links:
    """Where the picker's links go: ``days`` (a day list or a day, with ``from=`` and
    ``day=`` appended) and ``times`` (a time's confirm step, with ``start=``)."""

    days: str
    times: str

    def day(self, first: datetime.date, day: datetime.date) -> str:
        return f"{self.days}{urlencode({'from': first.isoformat(), 'day': day.isoformat()})}"

    def page(self, first: datetime.date) -> str:
        return f"{self.days}{urlencode({'from': first.isoformat()})}"

    def time(self, start: datetime.datetime) -> str:
        return f"{self.times}{urlencode({'start': instant_text(start)})}"


@dataclass(frozen=True, slots=True)
class Picker:
    """Fourteen bookable days from ``first``, the free times of each, and the chosen day."""

    first: datetime.date
    by_day: dict[datetime.date, list[FreeTime]]
    day: datetime.date | None
    earlier: datetime.date | None
    later: datetime.date | None

    @property
    def times(self) -> list[FreeTime]:
        return self.by_day.get(self.day, []) if self.day else []

    @classmethod
    async def of(
        cls,
        bookings: BookingService,
        business: Business,
        offering: Offering,
        staff: Sequence[User],
        *,
        now: datetime.datetime,
        first: datetime.date | None,
        day: datetime.date | None,
        ignoring: uuid.UUID | None = None,
    ) -> Picker:
        days = booking_days(business, now)
        start = first if first in days else days[0]
        shown = [d for d in days if start <= d][:DAYS_SHOWN]
        free = await bookings.free_times(business, offering, staff, shown, now=now, ignoring=ignoring)
        by_day: dict[datetime.date, list[FreeTime]] = {d: [] for d in shown}
        for option in free:
            by_day[business.local_date(option.start)].append(option)
        if day not in by_day:
            day = next((d for d, options in by_day.items() if options), None)
        earlier = [d for d in days if d < start][-DAYS_SHOWN:]
        later = [d for d in days if d > shown[-1]]
        return cls(start, by_day, day, earlier[0] if earlier else None, later[0] if later else None)


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
            "zones": TimeZones.of(business, visitor), "price_text": price_text,
            "shown": await bookings.shown(performers),
        }  # fmt: skip
        if staff is None and len(performers) > 1:
            return HTMXTemplate(template_name="scheduling/book_staff.html", context=context)
        chosen = staff_choice(staff)
        candidates = await bookings.candidates(offering, chosen)
        context |= {
            "staff_value": staff_text(chosen),
            "staff_name": context["shown"][candidates[0].id].name if len(candidates) == 1 else None,
            "picker": await Picker.of(bookings, business, offering, candidates, now=now, first=first, day=day),
            "links": booking_links(request, offering, chosen),
        }
        partial = request.htmx and request.htmx.target == "picker"
        return HTMXTemplate(
            template_name="scheduling/partials/_picker.html" if partial else "scheduling/book_times.html",
            context=context,
        )

    @staticmethod
    async def _confirm_page(
        request: HTMXRequest,
        choice: tuple[Offering, Business, uuid.UUID | None, datetime.datetime],
        *,
        visitor: Viewer | None,
        bookings: BookingService,
        refusal: RefusedError | None = None,
    ) -> HTMXTemplate:
        offering, business, staff, start = choice
        candidates = await bookings.candidates(offering, staff)
        shown = await bookings.shown(candidates)
        links = booking_links(request, offering, staff)
        one = candidates[0].id if len(candidates) == 1 else None
        context = {
            "offering": offering, "business": business, "zones": TimeZones.of(business, visitor), "visitor": visitor,
            "staff_value": staff_text(staff), "staff_name": shown[one].name if one else None,
            "start": start, "start_value": instant_text(start), "here": links.time(start), "links": links,
            "refusal": refusal, "nearest": getattr(refusal, "nearest", []), "price_text": price_text,
        }  # fmt: skip
        answer = refusal_answer(refusal) if refusal else {}
        return HTMXTemplate(template_name="scheduling/book_confirm.html", context=context, **answer)

    @get("/{offering_id:uuid}/confirm", name="book-confirm")
    async def confirm_page(
        self,
        *,
        request: HTMXRequest,
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
        refusal = await bookings.check(business, offering, candidates, wanted, now=now)
        choice = (offering, business, chosen, wanted)
        return await self._confirm_page(request, choice, visitor=visitor, bookings=bookings, refusal=refusal)

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
            choice = (offering, business, chosen, wanted)
            return await self._confirm_page(request, choice, visitor=viewer, bookings=bookings, refusal=refusal)
        zones = TimeZones.of(business, viewer)
        flash(request, f"Booked: {offering.name}, {zones.moment(appointment.starts_at)}.", "ok")
        return redirect(request, request.app.route_reverse("my-appointments"))
