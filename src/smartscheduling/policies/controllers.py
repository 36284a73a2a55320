"""The published policies."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from smartscheduling.policies.text import shipped_policy


class PolicyController(Controller):
    include_in_schema = False

    @get("/privacy", name="privacy", sync_to_thread=False)
    def privacy(self) -> Template:
        return Template(template_name="policies/privacy.html", context={"policy": shipped_policy()})
