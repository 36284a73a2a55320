"""One appointment at the front desk (``/staff/appointments/{id}``): its panel and the
actions arrived, completed, no-show and cancel, each against the version the page
showed (changed meanwhile on another tablet: ``409`` with the appointment as it is now)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from smartscheduling.accounts.guards import requires_role
from smartscheduling.audit.service import ActorDep
from smartscheduling.db import WRITES
from smartscheduling.refusals import RefusedError
from smartscheduling.scheduling.booking_controllers import TimeZones
from smartscheduling.scheduling.models import AppointmentStatus
from smartscheduling.scheduling.schemas import price_text
from smartscheduling.scheduling.services import BusinessService
from smartscheduling.staff.appointments import DeskService, Panel
from smartscheduling.staff.controllers import STAFF_ROLES, Businesses, Now, who
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


def panel_page(panel: Panel, business: Any, now: datetime.datetime, **answer: Any) -> HTMXTemplate:
    context = {
        "panel": panel, "zones": TimeZones.of(business, None), "Status": AppointmentStatus, "now": now,
        "price_text": price_text,
        "refusal": answer.pop("refusal", None), "who": who(panel.client) if panel.client else "Anonymous client",
        "moves": [
            (datetime.datetime.fromisoformat(move["from"]), datetime.datetime.fromisoformat(move["to"]), move["by"])
            for move in panel.appointment.history
        ],
    }  # fmt: skip
    return HTMXTemplate(template_name="staff/appointment.html", context=context, **answer)


class AppointmentDeskController(Controller):
    """The front desk's actions on one appointment."""

    path = "/staff/appointments/{appointment_id:uuid}"
    guards = [requires_role(*STAFF_ROLES)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-appointment", opt=WRITES)
    async def show(
        self, *, appointment_id: FromPath[uuid.UUID], desk: Desk, businesses: Businesses, actor: ActorDep, now: Now
    ) -> HTMXTemplate:
        panel = await the_panel(desk, appointment_id)
        await desk.viewed(panel, actor=actor)
        return panel_page(panel, await businesses.current(), now)

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
            return panel_page(current, business, now, refusal=refusal, **refusal_answer(refusal))
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
