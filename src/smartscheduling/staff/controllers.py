"""The client directory (``/staff/clients``) and client records, for staff, privacy
officers and administrators; anonymizing or deleting a client (privacy officers and
administrators; staff ask them to); the business's figures (``/staff/dashboard``).
Opening, editing and annotating a record are audit events the client sees in "Your
data"."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.models import Role, User
from smartscheduling.accounts.schemas import normalize_phone
from smartscheduling.audit.service import ActorDep
from smartscheduling.clock import Now
from smartscheduling.db import WRITES
from smartscheduling.personal_data import Erasure
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking_controllers import TimeZones
from smartscheduling.scheduling.models import AppointmentStatus
from smartscheduling.scheduling.schemas import price_text
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.staff.clients import ClientExistsError, ClientRow, ClientService, ClientValues
from smartscheduling.staff.erasure import ErasureService
from smartscheduling.staff.figures import Figures, FiguresService
from smartscheduling.staff.schemas import ClientForm, ErasureForm, ErasureRequestForm, NoteForm
from smartscheduling.web.forms import FormState, parse_form
from smartscheduling.web.http import local_path, redirect
from smartscheduling.web.templating import long_date

Clients = NamedDependency[ClientService]
Erasures = NamedDependency[ErasureService]
FiguresDep = NamedDependency[FiguresService]
Businesses = NamedDependency[BusinessService]
#: Who works with clients: staff, privacy officers (and administrators, who pass every guard).
STAFF_ROLES = (Role.STAFF, Role.PRIVACY_OFFICER)


def who(client: User | ClientRow) -> str:
    """How a record is named on a page (and in the directory): its name, else how to
    reach them."""
    return client.name or client.phone or client.address or "Client without a name"


async def found(clients: ClientService, client_id: uuid.UUID) -> User:
    client = await clients.get(client_id)
    if client is None:
        raise NotFoundException("There is no such client.")
    return client


async def read_client(request: HTMXRequest, businesses: BusinessService) -> tuple[ClientValues | None, FormState]:
    """The form's record, its phone number in E.164 (read as one of the business's country
    when it has no ``+``)."""
    data, state = parse_form(ClientForm, await request.form())
    phone = None
    if state.value("phone") and "phone" not in state.errors:  # checked with the rest: every problem at once
        try:
            phone = normalize_phone(state.value("phone"), (await businesses.current()).country)
        except ValueError as problem:
            state.errors["phone"] = str(problem)
    if data is None or state.errors:
        return None, state
    return ClientValues(name=data.name, phone=phone, email=data.email), state


def client_form(state: FormState, client: User | None, *, then: str | None = None, **answer: Any) -> HTMXTemplate:
    """The new-client or edit form again, with what was typed; ``then``: the booking step
    to go on with once the client is added; ``answer``: the status (422 unless a
    refusal's) and headers."""
    context: dict[str, Any] = {"form": state, "client": client, "then": then, "with_client": with_client}
    if "existing" in answer:
        context["existing"] = answer.pop("existing")
    answer.setdefault("status_code", HTTP_422_UNPROCESSABLE_ENTITY)
    return HTMXTemplate(template_name="staff/client_form.html", context=context, **answer)


def refused(state: FormState, client: User | None, refusal: RefusedError, *, then: str | None = None) -> HTMXTemplate:
    existing = {"existing": refusal.existing} if isinstance(refusal, ClientExistsError) else {}
    return client_form(state, client, then=then, **existing, **state.refuse(refusal))


def booking_step(request: HTMXRequest, raw: object) -> str | None:
    """Where booking for a client goes on once the new client is added (``next``): only
    ever a step of ``/staff/book``, with the client's id still to be appended."""
    target = local_path(raw if isinstance(raw, str) else None, "")
    book = request.app.route_reverse("staff-book")
    return target if target == book or target.startswith(f"{book}?") else None


def with_client(step: str, client_id: uuid.UUID | str) -> str:
    """The booking step ``step`` for the client ``client_id``."""
    return f"{step}{'&' if '?' in step else '?'}{urlencode({'client': str(client_id)})}"


def form_of(client: User) -> FormState:
    return FormState(
        values={
            "version": str(client.profile_version),
            "name": client.name,
            "phone": client.phone or "",
            "email": client.address or "",
        }
    )


async def client_page(
    client: User,
    clients: ClientService,
    erasures: ErasureService,
    businesses: BusinessService,
    note_form: FormState,
    *,
    actor: Any,
    now: datetime.datetime,
    request_form: FormState | None = None,
    status_code: int = 200,
) -> HTMXTemplate:
    record = await clients.open(client, actor=actor)
    context = {
        "record": record, "who": who(client), "form": note_form, "request_form": request_form or FormState(),
        "now": now, "zones": TimeZones.of(await businesses.current(), None), "Status": AppointmentStatus,
        "requests": await erasures.requests(client.id),
    }  # fmt: skip
    return HTMXTemplate(template_name="staff/client.html", context=context, status_code=status_code)


#: The two ways to erase one client, in the words the pages use.
HOW = {"anonymize": Erasure.ANONYMIZE, "delete": Erasure.DELETE}
DONE = {
    Erasure.ANONYMIZE: "Anonymized: nothing identifies the client any more; their appointments stay as an anonymous "
    "client's.",
    Erasure.DELETE: "Deleted: everything about the client is gone, their appointments too.",
}


def erasure_page(client: User, how: str, state: FormState, *, status_code: int = 200, **answer: Any) -> HTMXTemplate:
    context = {"client": client, "who": who(client), "how": how, "form": state}
    return HTMXTemplate(template_name="staff/erase.html", context=context, status_code=status_code, **answer)


def how_of(how: str) -> Erasure:
    if how not in HOW:
        raise NotFoundException("Choose anonymize or delete.")
    return HOW[how]


class ClientsController(Controller):
    path = "/staff/clients"
    guards = [requires_role(*STAFF_ROLES)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-clients")
    async def directory(
        self,
        *,
        request: HTMXRequest,
        clients: Clients,
        businesses: Businesses,
        now: Now,
        text: Annotated[str, QueryParameter(name="q", max_length=100)] = "",
        after: Annotated[uuid.UUID | None, QueryParameter(name="after")] = None,
    ) -> HTMXTemplate:
        """Every client in name order, or those matching ``q``; 50 a page."""
        page = await clients.search(text, after=after, now=now, region=(await businesses.current()).country)
        template = "staff/partials/_client_results.html" if request.htmx else "staff/clients.html"
        return HTMXTemplate(template_name=template, context={"query": text, "page": page, "after": after, "who": who})

    @get("/new", name="new-client")
    async def new(
        self, request: HTMXRequest, then: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> HTMXTemplate:
        """``next``: a step of booking for a client, gone on with once the client is added."""
        return client_form(FormState(), None, then=booking_step(request, then), status_code=200)

    @post("/new")
    async def create(
        self, *, request: HTMXRequest, clients: Clients, businesses: Businesses, actor: ActorDep
    ) -> Response[Any]:
        then = booking_step(request, (await request.form()).get("next"))
        values, state = await read_client(request, businesses)
        if values is None:
            return client_form(state, None, then=then)
        try:
            client = await clients.create(values, actor=actor)
        except ClientExistsError as refusal:
            return refused(state, None, refusal, then=then)
        flash(request, f"Client added: {who(client)}.", "ok")
        return redirect(
            request,
            with_client(then, client.id) if then else request.app.route_reverse("staff-client", client_id=client.id),
        )

    @get("/{client_id:uuid}", name="staff-client", opt=WRITES)
    async def show(
        self,
        *,
        client_id: FromPath[uuid.UUID],
        clients: Clients,
        erasures: Erasures,
        businesses: Businesses,
        actor: ActorDep,
        now: Now,
    ) -> HTMXTemplate:
        """The record: contact details, appointments and notes (opening it is audited)."""
        client = await found(clients, client_id)
        return await client_page(client, clients, erasures, businesses, FormState(), actor=actor, now=now)

    @get("/{client_id:uuid}/edit", name="edit-client", opt=WRITES)
    async def edit(self, *, client_id: FromPath[uuid.UUID], clients: Clients, actor: ActorDep) -> HTMXTemplate:
        client = await found(clients, client_id)
        await clients.viewed(client, actor=actor)
        return client_form(form_of(client), client, status_code=200)

    @post("/{client_id:uuid}/edit")
    async def change(
        self,
        *,
        request: HTMXRequest,
        client_id: FromPath[uuid.UUID],
        clients: Clients,
        businesses: Businesses,
        actor: ActorDep,
    ) -> Response[Any]:
        client = await found(clients, client_id)
        values, state = await read_client(request, businesses)
        if values is None:
            return client_form(state, client)
        try:
            changed = await clients.change(client, values, version=int(state.value("version")), actor=actor)
        except RefusedError as refusal:
            return refused(state, client, refusal)
        flash(request, f"Saved: {who(client)}." if changed else "Nothing to save: nothing was changed.", "ok")
        return redirect(request, request.app.route_reverse("staff-client", client_id=client.id))

    @post("/{client_id:uuid}/notes", name="add-client-note")
    async def add_note(
        self,
        *,
        request: HTMXRequest,
        client_id: FromPath[uuid.UUID],
        clients: Clients,
        erasures: Erasures,
        businesses: Businesses,
        actor: ActorDep,
        now: Now,
    ) -> Response[Any]:
        client = await found(clients, client_id)
        data, state = parse_form(NoteForm, await request.form())
        if data is None:  # the record again, the note as typed and what to fix
            return await client_page(
                client,
                clients,
                erasures,
                businesses,
                state,
                actor=actor,
                now=now,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        await clients.add_note(client, data.body, actor=actor)
        flash(request, "Note added.", "ok")
        return redirect(request, request.app.route_reverse("staff-client", client_id=client.id))

    @post("/{client_id:uuid}/erasure-request", name="request-erasure")
    async def request_erasure(
        self,
        *,
        request: HTMXRequest,
        client_id: FromPath[uuid.UUID],
        clients: Clients,
        erasures: Erasures,
        businesses: Businesses,
        actor: ActorDep,
        now: Now,
    ) -> Response[Any]:
        """Staff ask a privacy officer to anonymize or delete the client."""
        client = await found(clients, client_id)
        data, state = parse_form(ErasureRequestForm, await request.form())
        if data is None:
            return await client_page(
                client, clients, erasures, businesses, FormState(), actor=actor, now=now, request_form=state,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )  # fmt: skip
        await erasures.request(client, HOW[data.how], reason=data.reason, actor=actor)
        flash(request, "Asked: a privacy officer sees your request on this client's page.", "ok")
        return redirect(request, request.app.route_reverse("staff-client", client_id=client.id))


class ErasureController(Controller):
    """Privacy officers and administrators anonymize or delete one client."""

    path = "/staff/clients/{client_id:uuid}/erase/{how:str}"
    guards = [requires_role(Role.PRIVACY_OFFICER)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="erase-client", opt=WRITES)
    async def confirm(
        self, *, client_id: FromPath[uuid.UUID], how: FromPath[str], clients: Clients, actor: ActorDep
    ) -> HTMXTemplate:
        """What anonymizing (or deleting) does, in plain words; then the reason and the
        confirmation."""
        how_of(how)
        client = await found(clients, client_id)
        await clients.viewed(client, actor=actor)
        return erasure_page(client, how, FormState())

    @post("/")
    async def erase(
        self,
        *,
        request: HTMXRequest,
        client_id: FromPath[uuid.UUID],
        how: FromPath[str],
        clients: Clients,
        erasures: Erasures,
        actor: ActorDep,
        now: Now,
    ) -> Response[Any]:
        way = how_of(how)
        client = await found(clients, client_id)
        data, state = parse_form(ErasureForm, await request.form())
        if data is None:
            return erasure_page(client, how, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        await erasures.erase(client, way, reason=data.reason, actor=actor, now=now)
        flash(request, DONE[way], "ok")
        return redirect(request, request.app.route_reverse("staff-clients"))


class DashboardController(Controller):
    path = "/staff/dashboard"
    guards = [requires_role(*STAFF_ROLES)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-dashboard")
    async def show(self, *, figures: FiguresDep, businesses: Businesses, now: Now) -> HTMXTemplate:
        """The last eight weeks in figures: SVG charts, each with its numbers as a table."""
        business = await businesses.current()
        found = await figures.figures(business, business.local_date(now))
        context = {"figures": found, "business": business, "charts": charts_of(found, business.currency)}
        return HTMXTemplate(template_name="staff/dashboard.html", context=context)


def hours_text(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min"


def charts_of(figures: Figures, currency: str) -> dict[str, Any]:
    """The figures as the page draws and tabulates them (labels and values)."""

    def money(cents: int) -> str:
        return f"{price_text(cents)} {currency}"

    utilization = [(row.staff or "A former staff member", row) for row in figures.utilization]
    return {
        "revenue": money(figures.revenue_cents),
        "per_day": [(f"{day.day} {day:%b}", count) for day, count in figures.per_day],
        "per_day_rows": [(long_date(day), count) for day, count in figures.per_day],
        "hours": [(f"{hour:02d}:00", count) for hour, count in figures.busiest_hours],
        "utilization_bars": [(name, round(row.ratio * 100)) for name, row in utilization],
        "utilization": [
            (name, hours_text(row.booked_minutes), hours_text(row.working_minutes), f"{row.ratio * 100:.0f} %")
            for name, row in utilization
        ],
        "services": [
            (row.month, row.service, row.appointments, money(row.revenue_cents)) for row in figures.per_service_month
        ],
    }
