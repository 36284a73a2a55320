"""The complainant's side: the form at ``/privacy/complaints/new`` (signed in or not), the
private page behind the link in the acknowledgement, and a signed-in person's own
complaints."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.guards import anyone, requires_login
from smartscheduling.accounts.identity import ViewerDep, VisitorDep
from smartscheduling.audit.service import ActorDep
from smartscheduling.business_days import BusinessCalendar
from smartscheduling.clock import Now
from smartscheduling.complaints.models import Complaint
from smartscheduling.complaints.schemas import AddForm, ComplaintForm
from smartscheduling.complaints.services import ComplaintService, NewComplaint
from smartscheduling.security.throttle import Limit, Throttle, TooManyAttemptsError
from smartscheduling.web.forms import FormState, parse_form, render_form
from smartscheduling.web.http import client_network, redirect

Complaints = NamedDependency[ComplaintService]
Calendar = NamedDependency[BusinessCalendar]
Throttling = NamedDependency[Throttle]
#: Complaints from one network: enough for a family or an office, not for a flood.
COMPLAINTS_PER_NETWORK = Limit("complaint-network", 5, timedelta(hours=1))
#: Additions to complaints from one network: a conversation, not a flood.
ADDITIONS_PER_NETWORK = Limit("complaint-add-network", 20, timedelta(hours=1))
#: The private page is reached by a secret in its address: it goes nowhere else.
PRIVATE = {"Referrer-Policy": "no-referrer"}


async def follow_context(complaints: ComplaintService, complaint: Complaint, **more: Any) -> dict[str, Any]:
    return {"complaint": complaint, "timeline": await complaints.timeline(complaint, internal=False), **more}


class ComplaintController(Controller):
    path = "/privacy/complaints"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    def _form(request: HTMXRequest, state: FormState, **answer: Any) -> HTMXTemplate:
        return render_form(request, "complaints/new.html", "complaints/partials/_form.html", state, **answer)

    @get("/new", name="complaint-new")
    async def new(self, request: HTMXRequest, visitor: VisitorDep) -> HTMXTemplate:
        values = {"name": visitor.name, "email": visitor.email} if visitor else {}
        return self._form(request, FormState(values=values))

    @post("/new")
    async def submit(
        self, *, request: HTMXRequest, visitor: VisitorDep, complaints: Complaints, calendar: Calendar,
        throttle: Throttling, actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        data, state = parse_form(ComplaintForm, await request.form())
        if data is None:
            return self._form(request, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        decision = await throttle.hit(COMPLAINTS_PER_NETWORK, client_network(request))
        if not decision.allowed:
            return self._form(request, state, **state.refuse(TooManyAttemptsError("complaints from your network",
                                                                                  decision)))  # fmt: skip
        received = await complaints.receive(
            NewComplaint(data.name, data.email, data.details), calendar=calendar, received_at=now, actor=actor,
            user=visitor.user if visitor else None,
        )  # fmt: skip
        flash(request, f"Your complaint is received: {received.complaint.reference}. We sent an acknowledgement "
                       f"to {data.email} with the link to this page.", "ok")  # fmt: skip
        return redirect(request, request.app.route_reverse("complaint-follow", token=received.token))

    @get("/follow/{token:str}", name="complaint-follow")
    async def follow(self, token: FromPath[str], complaints: Complaints) -> HTMXTemplate:
        complaint = await self._by_link(complaints, token)
        context = await follow_context(complaints, complaint, form=FormState(), action_token=token)
        return HTMXTemplate(template_name="complaints/follow.html", context=context, headers=PRIVATE)

    @post("/follow/{token:str}")
    async def add_by_link(
        self, *, request: HTMXRequest, token: FromPath[str], complaints: Complaints, throttle: Throttling,
        actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        complaint = await self._by_link(complaints, token)
        return await add(request, complaints, complaint, throttle, actor=actor, now=now, action_token=token)

    @staticmethod
    async def _by_link(complaints: ComplaintService, token: str) -> Complaint:
        complaint = await complaints.by_link(token)
        if complaint is None:
            raise NotFoundException("This link leads to no complaint: check that it was copied whole.")
        return complaint


async def add(
    request: HTMXRequest, complaints: ComplaintService, complaint: Complaint, throttle: Throttle, *, actor: Any,
    now: Any, **more: Any,
) -> Response[Any]:  # fmt: skip
    """The complainant's addition, from the private page or their own."""
    data, state = parse_form(AddForm, await request.form())
    answer: dict[str, Any] = {"status_code": HTTP_422_UNPROCESSABLE_ENTITY}
    if data is not None:
        decision = await throttle.hit(ADDITIONS_PER_NETWORK, client_network(request))
        if decision.allowed:
            await complaints.add(complaint, data.body, actor=actor, now=now)
            flash(request, "Added to your complaint: we will read it.", "ok")
            return redirect(request, request.url.path)
        answer = state.refuse(TooManyAttemptsError("additions from your network", decision))
    context = await follow_context(complaints, complaint, form=state, **more)
    headers = {**PRIVATE, **(answer.get("headers") or {})}
    return HTMXTemplate(template_name="complaints/follow.html", context=context, status_code=answer["status_code"],
                        headers=headers)  # fmt: skip


class MyComplaintsController(Controller):
    path = "/privacy/complaints/mine"
    guards = [requires_login]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="my-complaints")
    async def index(self, viewer: ViewerDep, complaints: Complaints) -> HTMXTemplate:
        return HTMXTemplate(
            template_name="complaints/mine.html", context={"complaints": await complaints.of(viewer.id)}
        )

    @get("/{complaint_id:uuid}", name="my-complaint")
    async def show(self, complaint_id: FromPath[uuid.UUID], viewer: ViewerDep, complaints: Complaints) -> HTMXTemplate:
        complaint = await self._mine(complaints, complaint_id, viewer.id)
        context = await follow_context(complaints, complaint, form=FormState(), action_token=None)
        return HTMXTemplate(template_name="complaints/follow.html", context=context)

    @post("/{complaint_id:uuid}")
    async def add_mine(
        self, *, request: HTMXRequest, complaint_id: FromPath[uuid.UUID], viewer: ViewerDep, complaints: Complaints,
        throttle: Throttling, actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        complaint = await self._mine(complaints, complaint_id, viewer.id)
        return await add(request, complaints, complaint, throttle, actor=actor, now=now, action_token=None)

    @staticmethod
    async def _mine(complaints: ComplaintService, complaint_id: uuid.UUID, person: uuid.UUID) -> Complaint:
        complaint = await complaints.get(complaint_id)
        if complaint is None or complaint.user_id != person:
            raise NotFoundException("You have no complaint with this address.")
        return complaint
