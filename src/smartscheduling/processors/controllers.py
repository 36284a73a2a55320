"""The processor register: public at ``/privacy/processors``, edited by administrators
at ``/staff/processors``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from msgspec import Meta

from smartscheduling.accounts.guards import anyone, requires_role
from smartscheduling.accounts.models import Role
from smartscheduling.audit.service import ActorDep
from smartscheduling.processors.models import Processor
from smartscheduling.processors.services import FIELDS, NameTakenError, ProcessorService
from smartscheduling.web.forms import FormState, parse_form
from smartscheduling.web.http import redirect

Processors = NamedDependency[ProcessorService]
ProcessorId = FromPath[uuid.UUID]


def check_website(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        msg = "Enter the web address in full, starting with https://"
        raise ValueError(msg)
    return value


class ProcessorForm(msgspec.Struct):
    name: Annotated[str, Meta(title="Name", max_length=120)]
    purpose: Annotated[str, Meta(title="What they do for us", max_length=500)]
    data_categories: Annotated[str, Meta(title="Data they process", max_length=500)]
    location: Annotated[str, Meta(title="Where", max_length=200)]
    safeguards: Annotated[str, Meta(title="Safeguards", max_length=500)]
    website: Annotated[str, Meta(title="Website", max_length=300, extra={"clean": check_website})] | None = None


class ProcessorRegisterController(Controller):
    path = "/privacy/processors"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="processor-register")
    async def register(self, processors: Processors) -> HTMXTemplate:
        context = {"processors": await processors.register(), "last_changed": await processors.last_changed()}
        return HTMXTemplate(template_name="processors/register.html", context=context)


class ProcessorAdminController(Controller):
    path = "/staff/processors"
    guards = [requires_role(Role.ADMIN)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    def _form(
        processor: Processor | None, state: FormState, *, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> HTMXTemplate:
        return HTMXTemplate(
            template_name="processors/edit.html",
            context={"processor": processor, "form": state},
            status_code=status_code,
            headers=headers,
        )

    @staticmethod
    async def _get(processors: ProcessorService, processor_id: uuid.UUID) -> Processor:
        processor = await processors.get_one_or_none(id=processor_id)
        if processor is None:
            raise NotFoundException("There is no such processor (it may have been removed).")
        return processor

    @get("/", name="staff-processors")
    async def index(self, processors: Processors) -> HTMXTemplate:
        return HTMXTemplate(template_name="processors/admin.html", context={"processors": await processors.register()})

    @get("/new", name="new-processor")
    async def new(self) -> HTMXTemplate:
        return self._form(None, FormState())

    @post("/new")
    async def create(self, request: HTMXRequest, actor: ActorDep, processors: Processors) -> Response[Any]:
        data, state = parse_form(ProcessorForm, await request.form())
        if data is None:
            return self._form(None, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await processors.add(msgspec.structs.asdict(data), actor=actor)
        except NameTakenError as taken:
            return self._form(None, state, **state.refuse(taken))
        flash(request, f"{data.name} added to the register.", "ok")
        return redirect(request, "/staff/processors")

    @get("/{processor_id:uuid}", name="processor")
    async def edit(self, processor_id: FromPath[uuid.UUID], processors: Processors) -> HTMXTemplate:
        processor = await self._get(processors, processor_id)
        values = {name: getattr(processor, name) or "" for name in FIELDS}
        return self._form(processor, FormState(values=values))

    @post("/{processor_id:uuid}")
    async def save(
        self, request: HTMXRequest, processor_id: FromPath[uuid.UUID], actor: ActorDep, processors: Processors
    ) -> Response[Any]:
        processor = await self._get(processors, processor_id)
        data, state = parse_form(ProcessorForm, await request.form())
        if data is None:
            return self._form(processor, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            await processors.change(processor, msgspec.structs.asdict(data), actor=actor)
        except NameTakenError as taken:
            return self._form(processor, state, **state.refuse(taken))
        flash(request, f"{data.name}: saved.", "ok")
        return redirect(request, "/staff/processors")

    @post("/{processor_id:uuid}/delete", name="delete-processor")
    async def delete(
        self, request: HTMXRequest, processor_id: FromPath[uuid.UUID], actor: ActorDep, processors: Processors
    ) -> Response[Any]:
        processor = await self._get(processors, processor_id)
        await processors.remove(processor, actor=actor)
        flash(request, f"{processor.name} removed from the register.", "ok")
        return redirect(request, "/staff/processors")
