"""Vendored assets are the pinned ones; static URLs are fingerprinted."""

from __future__ import annotations

import hashlib
import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from smartscheduling.config import STATIC_DIR
from smartscheduling.web.templating import static_url


def test_vendored_htmx_matches_the_recorded_checksum() -> None:
    readme = (STATIC_DIR / "vendor" / "README").read_text()
    recorded = re.search(r"sha256:\s+([0-9a-f]{64})", readme)
    assert recorded
    actual = hashlib.sha256((STATIC_DIR / "vendor" / "htmx.min.js").read_bytes()).hexdigest()
    assert actual == recorded[1]
    assert "htmx.org 2.0.11" in readme
    assert 'version:"2.0.11"' in (STATIC_DIR / "vendor" / "htmx.min.js").read_text()


def test_static_urls_change_with_the_content() -> None:
    url = static_url("css/app.css")
    digest = hashlib.sha256((STATIC_DIR / "css" / "app.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/css/app.css?v={digest}"


@pytest.mark.parametrize("path", ["css/missing.css", "../pyproject.toml", "/etc/passwd"])
def test_static_url_refuses_missing_or_outside_files(path: str) -> None:
    with pytest.raises(LookupError):
        static_url(path)


async def test_pages_reference_only_local_fingerprinted_assets(client: AsyncTestClient[Litestar]) -> None:
    html = (await client.get("/")).text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css)[^"]*)"', html)
    assert sorted(assets) == sorted(
        [static_url("css/app.css"), static_url("vendor/htmx.min.js"), static_url("js/app.js")]
    )
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "max-age=31536000, public"
        assert "set-cookie" not in response.headers


def test_no_inline_script_or_style_in_any_template() -> None:
    templates = list((STATIC_DIR.parent / "templates").rglob("*.html"))
    assert templates
    for template in templates:
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), template
        assert "<style" not in source, template
        assert not re.search(r"\sstyle=", source), template
        assert not re.search(r"\son[a-z]+=", source), template  # inline event handlers
        assert "hx-on" not in source, template


async def test_the_favicon_is_served_without_a_cookie(client: AsyncTestClient[Litestar]) -> None:
    """Every browser asks for /favicon.ico: it gets the icon, not a 404 page (nor a cookie)."""
    response = await client.get("/favicon.ico", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/static/img/favicon.svg?v=")
    assert "set-cookie" not in response.headers
    icon = await client.get(response.headers["location"])
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    page = (await client.get("/")).text
    assert '<link rel="icon" href="/static/img/favicon.svg?v=' in page


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("", None),
        ("identity", None),
    ],
)
async def test_static_files_come_compressed_as_the_browser_allows(
    client: AsyncTestClient[Litestar], accept: str, coding: str | None
) -> None:
    original = (STATIC_DIR / "vendor/htmx.min.js").read_bytes()
    response = await client.get(static_url("vendor/htmx.min.js"), headers={"accept-encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == "max-age=31536000, public"
    assert response.content == original  # httpx decodes gzip and br: the same bytes arrive
    wire = int(response.headers["content-length"])
    assert wire < len(original) / 2 if coding else wire == len(original)


async def test_an_unknown_static_file_is_a_404(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/static/css/nothing.css")).status_code == 404
    assert (await client.get("/static/../pyproject.toml")).status_code == 404
