"""What every page shows of cookie consent: the banner's state, the text size a
preference cookie keeps, and the labels the consent pages use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine

from smartscheduling.consent.decision import ConsentState, state_of
from smartscheduling.consent.display import text_size
from smartscheduling.consent.models import consent_method_label
from smartscheduling.consent.registry import Category


def _consent_state(context: Mapping[str, Any]) -> ConsentState:
    """The visitor's consent, as the cookie firewall read it for this request."""
    return state_of(context["request"].scope)


def register(engine: JinjaTemplateEngine) -> None:
    # Also on pages no route matched (404s): the firewall reads consent for every request.
    engine.register_template_callable("consent_state", _consent_state)
    engine.register_template_callable("text_size", text_size)
    engine.engine.globals.update(Category=Category, consent_method_label=consent_method_label)
