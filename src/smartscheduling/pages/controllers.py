"""Public pages that belong to no other capability."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Redirect, Template

from smartscheduling.accounts.guards import anyone
from smartscheduling.web.templating import static_url


class PagesController(Controller):
    include_in_schema = False
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)

    @get("/", name="home", sync_to_thread=False)
    def home(self) -> Template:
        return Template(template_name="pages/home.html")

    @get("/favicon.ico", sync_to_thread=False)
    def favicon(self) -> Redirect:
        """Browsers, bookmarks and feed readers ask for it whatever the page's ``<link rel=icon>``."""
        return Redirect(static_url("img/favicon.svg"), status_code=302)
