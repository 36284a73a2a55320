"""The privacy officer's side: the queue at ``/staff/complaints`` by next deadline, one
complaint's page with its timeline and steps, and recording a complaint that came by
e-mail or post."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.models import Role
from smartscheduling.audit.service import Actor, ActorDep
from smartscheduling.business_days import CLOSE_OF_BUSINESS, BusinessCalendar
from smartscheduling.clock import Now
from smartscheduling.complaints.controllers import Calendar, Complaints
from smartscheduling.complaints.models import Channel, Complaint, ComplaintStatus
from smartscheduling.complaints.schemas import RecordedForm, StepForm
from smartscheduling.complaints.services import DUE_SOON_BUSINESS_DAYS, ComplaintService, NewComplaint
from smartscheduling.db import WRITES
from smartscheduling.refusals import RefusedError
from smartscheduling.web.forms import FormState, parse_form
from smartscheduling.web.http import redirect

#: The steps a complaint's page offers, each a form of its own: what it says when done.
STEPS = {
    "reply": "Reply sent to the complainant.",
    "ask": "Question sent to the complainant: the complaint waits for their answer.",
    "note": "Note added (the complainant does not see it).",
    "resolve": "Resolved: the complainant is told the outcome.",
    "reopen": "Reopened.",
}
FILTERS = {"": None, **{status.value: status for status in ComplaintStatus}}


def rule_context(calendar: BusinessCalendar) -> dict[str, Any]:
    """What the staff pages say about how the clocks count."""
    return {"close": CLOSE_OF_BUSINESS.strftime("%H:%M"), "zone": calendar.zone.key, "soon": DUE_SOON_BUSINESS_DAYS}


class StaffComplaintController(Controller):
    path = "/staff/complaints"
    guards = [requires_role(Role.PRIVACY_OFFICER)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-complaints")
    async def queue(
        self, complaints: Complaints, calendar: Calendar, now: Now, status: FromQuery[str] = ""
    ) -> HTMXTemplate:
        if status not in FILTERS:
            raise NotFoundException("There is no such status.")
        today = now.astimezone(calendar.zone).date()
        queue = await complaints.queue(calendar, today=today, status=FILTERS[status])
        context = {"queue": queue, "status": status, "Status": ComplaintStatus, **rule_context(calendar)}
        return HTMXTemplate(template_name="complaints/staff/queue.html", context=context)

    @staticmethod
    def _record_form(state: FormState, calendar: BusinessCalendar, **answer: Any) -> HTMXTemplate:
        context = {"form": state, **rule_context(calendar)}
        return HTMXTemplate(template_name="complaints/staff/record.html", context=context, **answer)

    @get("/new", name="record-complaint")
    async def record_page(self, calendar: Calendar, now: Now) -> HTMXTemplate:
        today = now.astimezone(calendar.zone).date()
        return self._record_form(FormState(values={"channel": "email", "received_on": today.isoformat()}), calendar)

    @post("/new")
    async def record(
        self, *, request: HTMXRequest, complaints: Complaints, calendar: Calendar, actor: ActorDep, now: Now
    ) -> Response[Any]:
        data, state = parse_form(RecordedForm, await request.form())
        if data is None:
            return self._record_form(state, calendar, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            received = await complaints.record_received(
                NewComplaint(data.name, data.email, data.details), received_on=data.received_on,
                channel=Channel(data.channel), calendar=calendar, now=now, actor=actor,
            )  # fmt: skip
        except RefusedError as refusal:
            return self._record_form(state, calendar, **state.refuse(refusal))
        complaint = received.complaint
        flash(request, f"Recorded as {complaint.reference}: the acknowledgement is on its way to {data.email}.", "ok")
        return redirect(request, request.app.route_reverse("staff-complaint", complaint_id=complaint.id))

    @get("/{complaint_id:uuid}", name="staff-complaint", opt=WRITES)
    async def show(
        self, complaint_id: FromPath[uuid.UUID], complaints: Complaints, calendar: Calendar, actor: ActorDep
    ) -> HTMXTemplate:
        complaint = await the_complaint(complaints, complaint_id)
        await complaints.viewed(complaint, actor=actor)
        return await complaint_page(complaints, complaint, calendar)

    @post("/{complaint_id:uuid}/{step:str}", name="complaint-step")
    async def step(
        self, *, request: HTMXRequest, complaint_id: FromPath[uuid.UUID], step: FromPath[str],
        complaints: Complaints, calendar: Calendar, actor: ActorDep, now: Now,
    ) -> Response[Any]:  # fmt: skip
        if step not in STEPS:
            raise NotFoundException("There is no such step.")
        complaint = await the_complaint(complaints, complaint_id)
        data, state = parse_form(StepForm, await request.form())
        if data is None:
            return await complaint_page(
                complaints, complaint, calendar, step=step, form=state, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        try:
            await take(complaints, complaint, step, data, actor=actor, now=now)
        except RefusedError as refusal:
            current = await the_complaint(complaints, complaint_id)
            return await complaint_page(complaints, current, calendar, step=step, form=state, **state.refuse(refusal))
        flash(request, STEPS[step], "ok")
        return redirect(request, request.app.route_reverse("staff-complaint", complaint_id=complaint_id))


async def take(
    complaints: ComplaintService, complaint: Complaint, step: str, data: StepForm, *, actor: Actor,
    now: datetime.datetime,
) -> None:  # fmt: skip
    moment = {"version": data.version, "actor": actor, "now": now}
    if step in ("reply", "ask"):
        await complaints.answer(complaint, data.body, ask=step == "ask", **moment)
    elif step == "note":
        await complaints.note(complaint, data.body, **moment)
    elif step == "resolve":
        await complaints.resolve(complaint, data.body, **moment)
    else:
        await complaints.reopen(complaint, data.body, **moment)


async def the_complaint(complaints: ComplaintService, complaint_id: uuid.UUID) -> Complaint:
    complaint = await complaints.get(complaint_id)
    if complaint is None:
        raise NotFoundException("There is no such complaint.")
    return complaint


async def complaint_page(
    complaints: ComplaintService, complaint: Complaint, calendar: BusinessCalendar, *, step: str | None = None,
    form: FormState | None = None, status_code: int = 200, headers: dict[str, str] | None = None,
) -> HTMXTemplate:  # fmt: skip
    """The complaint with its whole timeline; ``step``'s form shows ``form`` (what was typed, why it was refused)."""
    context = {
        "complaint": complaint, "timeline": await complaints.timeline(complaint, internal=True),
        "forms": {name: form if name == step and form else FormState() for name in STEPS},
        "Status": ComplaintStatus, **rule_context(calendar),
    }  # fmt: skip
    return HTMXTemplate(
        template_name="complaints/staff/complaint.html", context=context, status_code=status_code, headers=headers
    )
