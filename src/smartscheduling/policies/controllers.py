"""The published policies (public) and the notice of a significant change (signed in).

Each kind of policy is mounted at its own path by :func:`policy_routers`:
``/privacy``, ``/cookies/policy`` and ``/terms`` show the latest version, and below
each ``/history``, ``/v/<n>`` and ``/diff?from=<a>&to=<b>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import PathParameter, QueryParameter
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template
from markupsafe import Markup

from smartscheduling.accounts.guards import anyone, requires_login
from smartscheduling.accounts.identity import ViewerDep
from smartscheduling.policies.diff import diff_texts
from smartscheduling.policies.models import PolicyKind, PolicyVersion
from smartscheduling.policies.services import LatestVersions, PolicyService
from smartscheduling.policies.text import parse_cached
from smartscheduling.web.http import back_to, redirect

Policies = NamedDependency[PolicyService]
Kind = NamedDependency[PolicyKind]
Versions = NamedDependency[LatestVersions]
#: A bound on version numbers in URLs, well inside what the column holds.
MAX_VERSION = 1_000_000
#: Rendered articles kept per process (a few per kind in practice; the bound is a safeguard).
MAX_CACHED_ARTICLES = 256


async def published(versions: LatestVersions, kind: PolicyKind, number: int) -> PolicyVersion:
    version = await versions.published(kind, number)
    if version is None:
        raise NotFoundException(f"There is no version {number} of the {kind.label.lower()}.")
    return version


def article(request: Request[Any, Any, Any], version: PolicyVersion, latest: PolicyVersion) -> Markup:
    """The version's article, rendered once per process (and per latest version, which its
    "earlier version" alert names): published versions never change."""
    articles: dict[tuple[uuid.UUID, int], Markup] = request.app.state.policy_articles
    found = articles.get((version.id, latest.number))
    if found is None:
        template = request.app.template_engine.get_template("policies/partials/_document.html")  # type: ignore[union-attr]
        found = Markup(  # noqa: S704 (rendered by the autoescaping environment)
            template.render(
                request=request,
                kind=version.kind,
                version=version,
                latest=latest,
                document=parse_cached(version.text),
                data_location=request.app.state.settings.data_location,
            )
        )
        if len(articles) >= MAX_CACHED_ARTICLES:
            articles.clear()
        articles[version.id, latest.number] = found
    return found


def version_page(request: Request[Any, Any, Any], version: PolicyVersion, latest: PolicyVersion) -> Template:
    context = {
        "version": version,
        "latest": latest,
        "document": parse_cached(version.text),
        "article": article(request, version, latest),
    }
    return Template(template_name="policies/document.html", context=context)


class PublishedPolicyController(Controller):
    include_in_schema = False
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)

    @staticmethod
    async def _latest(versions: LatestVersions, kind: PolicyKind) -> PolicyVersion:
        latest = await versions.latest(kind)
        if latest is None:
            raise NotFoundException(f"The {kind.label.lower()} is not published yet.")
        return latest

    @get("/")
    async def latest(self, request: Request[Any, Any, Any], kind: Kind, versions: Versions) -> Template:
        latest = await self._latest(versions, kind)
        return version_page(request, latest, latest)

    @get("/v/{number:int}")
    async def version(
        self,
        request: Request[Any, Any, Any],
        kind: Kind,
        number: Annotated[int, PathParameter(ge=1, le=MAX_VERSION)],
        versions: Versions,
    ) -> Template:
        return version_page(request, await published(versions, kind, number), await self._latest(versions, kind))

    @get("/history")
    async def history(self, kind: Kind, policies: Policies) -> Template:
        versions = await policies.history(kind)
        return Template(template_name="policies/history.html", context={"kind": kind, "versions": versions})

    @get("/diff")
    async def diff(
        self,
        kind: Kind,
        versions: Versions,
        policies: Policies,
        older: Annotated[int | None, QueryParameter(name="from", ge=1, le=MAX_VERSION)] = None,
        newer: Annotated[int | None, QueryParameter(name="to", ge=1, le=MAX_VERSION)] = None,
    ) -> Template:
        """Without ``to``: the latest version; without ``from``: the one before ``to``."""
        latest = await self._latest(versions, kind)
        new = await published(versions, kind, newer or latest.number or 1)
        old_number = older if older is not None else (new.number or 1) - 1
        if old_number < 1:
            raise ValidationException(f"Version {new.number} is the first: there is nothing to compare it with.")
        old = await published(versions, kind, old_number)
        context = {
            "kind": kind,
            "old": old,
            "new": new,
            "diff": diff_texts(old.text, new.text),
            "versions": await policies.history(kind),
        }
        return Template(template_name="policies/diff.html", context=context)


def _provider(kind: PolicyKind) -> Callable[[], PolicyKind]:
    def provide_kind() -> PolicyKind:
        return kind

    return provide_kind


def policy_routers() -> list[Router]:
    """One router per kind of policy, at the kind's path."""
    return [
        Router(
            path=kind.path,
            route_handlers=[PublishedPolicyController],
            dependencies={"kind": Provide(_provider(kind), sync_to_thread=False)},
            include_in_schema=False,
        )
        for kind in PolicyKind
    ]


class PolicyNoticeController(Controller):
    """ "Our privacy policy changed on …": acknowledged once, then gone."""

    path = "/policies/acknowledge"
    guards = [requires_login]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @post("/", name="acknowledge-policy")
    async def acknowledge(self, request: HTMXRequest, viewer: ViewerDep, policies: Policies) -> Response[Any]:
        me = viewer
        form = await request.form()
        try:
            kind = PolicyKind(str(form.get("kind", "")))
        except ValueError:
            raise ValidationException("Unknown kind of policy.") from None
        await policies.acknowledge(me.id, kind)
        if request.htmx:  # the notice removes itself
            return HTMXTemplate(template_name="policies/partials/_acknowledged.html", context={"kind": kind})
        return redirect(request, back_to(request))
