"""Jinja set-up: globals every page needs and cache-busted static URLs."""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import StrictUndefined, pass_context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup, escape

from smartscheduling.config import CONTACT_EMAIL, SITE_NAME, STATIC_DIR, TEMPLATES_DIR, Settings
from smartscheduling.web.csrf import masked_token

UTC_ZONE = ZoneInfo("UTC")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
#: A web address or an e-mail address in running text (trailing punctuation excluded).
_LINKABLE = re.compile(r"(?P<url>https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'])|(?P<email>" + _EMAIL.pattern + ")")


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


#: Production: static files do not change while the process runs, so each URL is worked
#: out once (development checks the file on every call, to pick up edits).
_static_url_once = lru_cache(maxsize=256)(static_url)


@lru_cache(maxsize=4096)
def _reverse(app: Any, name: str, parameters: tuple[tuple[str, Any], ...]) -> str:
    return app.route_reverse(name, **dict(parameters))


def url_for(context: Mapping[str, Any], /, route_name: str, **parameters: Any) -> str:
    """Litestar's ``url_for``, remembered: a route's path for given parameters never
    changes, and working it out is among the costliest steps of rendering a page."""
    return _reverse(context["request"].app, route_name, tuple(sorted(parameters.items())))


def external_link(url: str, text: str | None = None) -> Markup:
    """The one way a page links to another site: ``rel="noopener noreferrer"`` (the other
    site learns nothing of the page and cannot reach back into it) and a visible marker
    that says, also to screen readers, that the link leaves the site."""
    return Markup(
        '<a href="{}" rel="noopener noreferrer" class="external">{}<span class="external__marker">'
        '<span aria-hidden="true">↗</span><span class="visually-hidden"> (external site)</span></span></a>'
    ).format(url, text or url)


def link_for(url: str, own_origin: str, text: str | None = None) -> Markup:
    """A link to ``url``: plain when it stays on this site, :func:`external_link` otherwise."""
    parts = urlsplit(url)
    if parts.scheme and f"{parts.scheme}://{parts.netloc}" != own_origin:
        return external_link(url, text)
    return Markup('<a href="{}">{}</a>').format(url, text or url)


@lru_cache(maxsize=1024)
def linkify(text: str, own_origin: str = "") -> Markup:
    """Escape ``text`` and turn the web and e-mail addresses in it into links. (Cached:
    the paragraphs of published policies are the same on every request.)"""

    def link(match: re.Match[str]) -> str:
        if match["email"]:
            return str(Markup('<a href="mailto:{0}">{0}</a>').format(match["email"]))
        return str(link_for(match["url"], own_origin))

    pieces, last = [], 0
    for match in _LINKABLE.finditer(text):
        pieces += [str(escape(text[last : match.start()])), link(match)]
        last = match.end()
    pieces.append(str(escape(text[last:])))
    return Markup("".join(pieces))  # noqa: S704 (built from escaped pieces)


def long_date(value: datetime.date | None) -> str:
    """``25 November 2026``: no ambiguity between day and month, in any country."""
    return f"{value.day} {value:%B %Y}" if value else "—"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


@pass_context
def local_time(context: Mapping[str, Any], value: datetime.datetime | None) -> Markup:
    """A stored (UTC) time as the viewer reads it: in the time zone of their profile (UTC
    for anyone without one), with the zone named, inside ``<time datetime="…">``."""
    if value is None:
        return Markup("—")
    viewer = context["request"].scope.get("user")
    shown = value.astimezone(_zone(getattr(viewer, "time_zone", None)))
    return Markup('<time datetime="{}">{}</time>').format(
        value.astimezone(datetime.UTC).isoformat(timespec="seconds"), shown.strftime("%Y-%m-%d %H:%M %Z")
    )


def _pop_flashes(context: Mapping[str, Any]) -> list[dict[str, str]]:
    """Messages stored by ``flash`` or ``web.http.flash_at``, shown once: taken from the session at
    the first call, then the same for every part of the page that asks."""
    state = context["request"].scope.setdefault("state", {})
    if "flashes" not in state:
        session = context["request"].scope.get("session")
        state["flashes"] = session.pop("_messages", []) if isinstance(session, dict) else []
    return state["flashes"]


def template_config(
    settings: Settings, extensions: Sequence[Callable[[JinjaTemplateEngine], None]] = ()
) -> TemplateConfig[JinjaTemplateEngine]:
    """``extensions``: each capability's ``templating.register`` (its template globals),
    assembled at the top."""

    def configure(engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.undefined = StrictUndefined  # a misspelt variable is a bug, not an empty string
        env.auto_reload = not settings.is_production  # production: no file check on every render
        env.trim_blocks = True
        env.lstrip_blocks = True
        env.globals.update(
            site_name=SITE_NAME,
            contact_email=CONTACT_EMAIL,
            static_url=_static_url_once if settings.is_production else static_url,
            debug=settings.debug,
        )
        env.filters["linkify"] = lambda text: linkify(text, settings.base_origin)
        env.filters["long_date"] = long_date
        env.filters["local_time"] = local_time
        env.globals["external_link"] = external_link
        # These also work on pages no route matched (404s), which get no session.
        engine.register_template_callable("csrf_token", masked_token)  # replaces Litestar's plain token
        engine.register_template_callable("get_flashes", _pop_flashes)
        engine.register_template_callable("url_for", url_for)  # replaces Litestar's, uncached
        for extend in extensions:
            extend(engine)

    return TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure)
