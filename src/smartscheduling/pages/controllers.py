"""Public pages that belong to no other capability."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from smartscheduling.security.guards import anyone


class PagesController(Controller):
    include_in_schema = False
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)

    @get("/", name="home", sync_to_thread=False)
    def home(self) -> Template:
        return Template(template_name="pages/home.html")
