"""The client directory (``/staff/clients``) and client records, for staff, privacy
officers and administrators. Opening, editing and annotating a record are audit events
the client sees in "Your data"."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

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
from smartscheduling.db import WRITES
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking_controllers import TimeZones
from smartscheduling.scheduling.models import AppointmentStatus
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.staff.clients import ClientExistsError, ClientService, ClientValues
from smartscheduling.staff.schemas import ClientForm, NoteForm
from smartscheduling.web.forms import FormState, parse_form
from smartscheduling.web.http import redirect

Clients = NamedDependency[ClientService]
Businesses = NamedDependency[BusinessService]
Now = NamedDependency[datetime.datetime]
#: Who works with clients: staff, privacy officers (and administrators, who pass every guard).
STAFF_ROLES = (Role.STAFF, Role.PRIVACY_OFFICER)


def who(client: User) -> str:
    """How a record is named on a page: its name, else how to reach them."""
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


def client_form(state: FormState, client: User | None, **answer: Any) -> HTMXTemplate:
    """The new-client or edit form again, with what was typed; ``answer``: the status
    (422 unless a refusal's) and headers."""
    context: dict[str, Any] = {"form": state, "client": client}
    if "existing" in answer:
        context["existing"] = answer.pop("existing")
    answer.setdefault("status_code", HTTP_422_UNPROCESSABLE_ENTITY)
    return HTMXTemplate(template_name="staff/client_form.html", context=context, **answer)


def refused(state: FormState, client: User | None, refusal: RefusedError) -> HTMXTemplate:
    existing = {"existing": refusal.existing} if isinstance(refusal, ClientExistsError) else {}
    return client_form(state, client, **existing, **state.refuse(refusal))


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
    businesses: BusinessService,
    note_form: FormState,
    *,
    actor: Any,
    now: datetime.datetime,
    status_code: int = 200,
) -> HTMXTemplate:
    record = await clients.open(client, actor=actor)
    context = {
        "record": record, "who": who(client), "form": note_form, "now": now,
        "zones": TimeZones.of(await businesses.current(), None), "Status": AppointmentStatus,
    }  # fmt: skip
    return HTMXTemplate(template_name="staff/client.html", context=context, status_code=status_code)


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
        now: Now,
        text: Annotated[str, QueryParameter(name="q", max_length=100)] = "",
        after: Annotated[uuid.UUID | None, QueryParameter(name="after")] = None,
    ) -> HTMXTemplate:
        """Every client in name order, or those matching ``q``; 50 a page."""
        page = await clients.search(text, after=after, now=now)
        template = "staff/partials/_client_results.html" if request.htmx else "staff/clients.html"
        return HTMXTemplate(template_name=template, context={"query": text, "page": page, "after": after})

    @get("/new", name="new-client")
    async def new(self) -> HTMXTemplate:
        return client_form(FormState(), None, status_code=200)

    @post("/new")
    async def create(
        self, *, request: HTMXRequest, clients: Clients, businesses: Businesses, actor: ActorDep
    ) -> Response[Any]:
        values, state = await read_client(request, businesses)
        if values is None:
            return client_form(state, None)
        try:
            client = await clients.create(values, actor=actor)
        except ClientExistsError as refusal:
            return refused(state, None, refusal)
        flash(request, f"Client added: {who(client)}.", "ok")
        return redirect(request, request.app.route_reverse("staff-client", client_id=client.id))

    @get("/{client_id:uuid}", name="staff-client", opt=WRITES)
    async def show(
        self,
        *,
        client_id: FromPath[uuid.UUID],
        clients: Clients,
        businesses: Businesses,
        actor: ActorDep,
        now: Now,
    ) -> HTMXTemplate:
        """The record: contact details, appointments and notes (opening it is audited)."""
        client = await found(clients, client_id)
        return await client_page(client, clients, businesses, FormState(), actor=actor, now=now)

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
        businesses: Businesses,
        actor: ActorDep,
        now: Now,
    ) -> Response[Any]:
        client = await found(clients, client_id)
        data, state = parse_form(NoteForm, await request.form())
        if data is None:  # the record again, the note as typed and what to fix
            return await client_page(
                client, clients, businesses, state, actor=actor, now=now, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        await clients.add_note(client, data.body, actor=actor)
        flash(request, "Note added.", "ok")
        return redirect(request, request.app.route_reverse("staff-client", client_id=client.id))
