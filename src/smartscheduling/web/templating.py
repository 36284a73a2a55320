"""Jinja set-up: globals every page needs and cache-busted static URLs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup, escape

from smartscheduling.config import STATIC_DIR, TEMPLATES_DIR, Settings
from smartscheduling.consent.decision import ConsentState, state_of
from smartscheduling.consent.display import text_size
from smartscheduling.consent.models import consent_method_label
from smartscheduling.consent.registry import Category

SITE_NAME = "Smart Scheduling"
CONTACT_EMAIL = "info@smartscheduling.com"
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@lru_cache(maxsize=256)
def _fingerprint(path: str, mtime_ns: int) -> str:
    del mtime_ns  # part of the cache key only: a changed file gets a new fingerprint
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: lets static files be cached for a year."""
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR) or not file.is_file():
        msg = f"no static file {path!r}"
        raise LookupError(msg)
    return f"/static/{path}?v={_fingerprint(path, file.stat().st_mtime_ns)}"


def mailto_links(text: str) -> Markup:
    """Escape ``text`` and turn the e-mail addresses in it into ``mailto:`` links."""
    escaped = str(escape(text))  # addresses contain no characters that escaping changes
    return Markup(_EMAIL.sub(lambda m: f'<a href="mailto:{m[0]}">{m[0]}</a>', escaped))  # noqa: S704


def _pop_flashes(context: Mapping[str, Any]) -> list[dict[str, str]]:
    """Messages stored by ``litestar.plugins.flash.flash``, shown once."""
    session = context["request"].scope.get("session")
    return session.pop("_messages", []) if isinstance(session, dict) else []


def _consent_state(context: Mapping[str, Any]) -> ConsentState:
    """The visitor's consent, as the cookie firewall read it for this request."""
    return state_of(context["request"].scope) or ConsentState(decision=None, gpc=False)


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.undefined = StrictUndefined  # a misspelt variable is a bug, not an empty string
        env.trim_blocks = True
        env.lstrip_blocks = True
        env.globals.update(
            site_name=SITE_NAME,
            contact_email=CONTACT_EMAIL,
            static_url=static_url,
            debug=settings.debug,
        )
        env.filters["mailto_links"] = mailto_links
        # Both also work on pages no route matched (404s), which get no session or user.
        engine.register_template_callable("current_user", lambda context: context["request"].scope.get("user"))
        engine.register_template_callable("get_flashes", _pop_flashes)
        engine.register_template_callable("consent_state", _consent_state)
        engine.register_template_callable("text_size", text_size)
        env.globals.update(Category=Category, consent_method_label=consent_method_label)

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure)
