"""Every link that leaves the site is marked and carries rel="noopener noreferrer": a
crawl of every page the app renders, signed out and as an administrator (who sees every
staff page), with data that makes each kind of page show up."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.policies.models import PolicyKind
from smartscheduling.policies.text import DATA_DIR
from smartscheduling.processors.models import Processor
from tests.helpers import post_form, publish, sign_in

HOST = "testserver.local"
#: Pages that change something or end the crawl's session when merely visited: none should, but
#: links to them would be followed with GET, which is harmless; only sign-out is a POST form anyway.
MAX_PAGES = 400


class Links(HTMLParser):
    """Every ``<a href>`` with its ``rel`` and whether it holds the external marker."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, object]] = []
        self._open: list[dict[str, object]] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            link = {"href": values["href"], "rel": set((values.get("rel") or "").split()), "marker": "", "hidden": ""}
            self.links.append(link)
            self._open.append(link)
        classes = set((values.get("class") or "").split())
        if self._open and "external__marker" in classes:
            self._open[-1]["marker"] = "yes"
        if self._open and "visually-hidden" in classes:
            self._hidden_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            self._open.pop()
        if tag == "span":
            self._hidden_depth = 0

    def handle_data(self, data: str) -> None:
        if self._open and self._hidden_depth:
            self._open[-1]["hidden"] = str(self._open[-1]["hidden"]) + data


def problems_of(html: str, page: str) -> tuple[list[str], list[str], int]:
    """``(problems, same-site paths, external links seen)`` of one page."""
    parser = Links()
    parser.feed(html)
    problems, internal, external = [], [], 0
    for link in parser.links:
        href = str(link["href"])
        parts = urlsplit(urljoin(f"http://{HOST}{page}", href))
        if parts.scheme not in ("http", "https"):
            continue  # mailto: and the like open no web page
        if parts.hostname == HOST:
            internal.append(parts.path + (f"?{parts.query}" if parts.query else ""))
            continue
        external += 1
        if not {"noopener", "noreferrer"} <= link["rel"]:  # type: ignore[operator]
            problems.append(f"{page}: {href} lacks rel=noopener noreferrer")
        if not link["marker"] or "external" not in str(link["hidden"]):
            problems.append(f"{page}: {href} has no visible external marker with accessible text")
    return problems, internal, external


def test_the_checker_catches_an_unmarked_external_link() -> None:
    bare = '<a href="https://elsewhere.example/">elsewhere</a><a href="/privacy">ours</a>'
    problems, internal, external = problems_of(bare, "/")
    assert len(problems) == 2
    assert (internal, external) == (["/privacy"], 1)
    marked = (
        '<a href="https://elsewhere.example/" rel="noopener noreferrer" class="external">elsewhere'
        '<span class="external__marker"><span aria-hidden="true">↗</span>'
        '<span class="visually-hidden"> (external site)</span></span></a>'
    )
    assert problems_of(marked, "/")[0] == []


async def crawl(client: AsyncTestClient[Litestar], start: list[str]) -> tuple[list[str], set[str], int]:
    seen: set[str] = set()
    queue = list(start)
    problems: list[str] = []
    external = 0
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop()
        if path in seen or path.startswith(("/static/", "/logout")):
            continue
        seen.add(path)
        response = await client.get(path, follow_redirects=False)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        found, internal, count = problems_of(response.text, path)
        problems += found
        external += count
        queue += [link.split("#")[0] for link in internal if link.split("#")[0] not in seen]
    return problems, seen, external


async def test_every_external_link_on_every_page_is_marked(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    async with AsyncSession(db_engine) as session:
        session.add(
            Processor(
                name="Example Hosting", purpose="Hosting", data_categories="All", location="U.S.",
                safeguards="DPA", website="https://hosting.example",
            )
        )  # fmt: skip
        await session.commit()
    text = (DATA_DIR / "terms-v1.txt").read_text() + "\nOur status page is https://status.example/now.\n"
    await publish(db_engine, PolicyKind.TERMS, text, significant=True)
    start = ["/", "/privacy", "/terms", "/cookies", "/signup", "/login", "/password/forgot", "/does-not-exist"]
    problems, anonymous_pages, external = await crawl(client, start)
    admin = await make_user(role=Role.ADMIN)
    await sign_in(client, admin.email)
    await post_form(client, "/policies/acknowledge", {"kind": "terms"})
    staff_problems, staff_pages, staff_external = await crawl(
        client, [*start, "/profile", "/profile/data", "/staff/policies", "/staff/processors"]
    )
    assert not problems + staff_problems
    assert external + staff_external >= 4  # the register and the terms, each seen signed out and in
    for page in ("/privacy/processors", "/terms/diff?from=1&amp;to=2", "/staff/campaigns/"):
        assert any(p.startswith(page.replace("&amp;", "&")) for p in anonymous_pages | staff_pages), page
