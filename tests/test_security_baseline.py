"""Security baseline: headers on every response, HTTPS redirect and HSTS, CSRF."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar, MediaType, post
from litestar.params import URLEncodedBody
from litestar.testing import AsyncTestClient

from smartscheduling.app import create_app
from smartscheduling.security.headers import CONTENT_SECURITY_POLICY, HSTS
from smartscheduling.web.csrf import unmask
from tests.conftest import make_settings

EXPECTED_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
}


@post("/_test/form", media_type=MediaType.TEXT, sync_to_thread=False)
def echo_form(data: URLEncodedBody[dict[str, str]]) -> str:
    return f"received {data.get('name', '')}"


@pytest.fixture
def app(settings) -> Litestar:
    app = create_app(settings)
    app.register(echo_form)
    return app


def pages(app: Litestar) -> list[str]:
    """Every GET page of the app that takes no path parameter."""
    return sorted(
        {route.path for route in app.routes if "GET" in getattr(route, "methods", ()) and "{" not in route.path}
    )


def assert_baseline_headers(headers: dict[str, str] | object) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert headers[name] == value, name  # type: ignore[index]
    permissions = headers["permissions-policy"]  # type: ignore[index]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


async def test_every_page_carries_the_security_headers(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    paths = pages(app)
    assert {"/", "/privacy", "/healthz", "/readyz"} <= set(paths)
    for path in [*paths, "/no-such-page", "/static/css/app.css"]:
        response = await client.get(path)
        assert_baseline_headers(response.headers)
        assert "strict-transport-security" not in response.headers  # development, plain HTTP


async def test_the_module_constant_is_the_policy_we_promise() -> None:
    assert EXPECTED_HEADERS["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert HSTS == "max-age=63072000; includeSubDomains"


async def test_dynamic_pages_are_not_stored_static_files_are_cached(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/privacy")).headers["cache-control"] == "no-store"
    static = await client.get("/static/css/app.css")
    assert static.headers["cache-control"] == "max-age=31536000, public"


@pytest.fixture
async def production(db_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(db_url, tmp_path, app_env="production", base_url="https://smartscheduling.test")
    async with AsyncTestClient(app=create_app(settings), base_url="https://smartscheduling.test") as client:
        yield client


async def test_production_redirects_http_to_the_configured_https_origin(
    production: AsyncTestClient[Litestar],
) -> None:
    response = await production.get(
        "http://evil.example/privacy?section=cookies", headers={"host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code == 308
    assert response.headers["location"] == "https://smartscheduling.test/privacy?section=cookies"
    assert_baseline_headers(response.headers)
    assert "strict-transport-security" not in response.headers


async def test_production_keeps_probes_on_plain_http(production: AsyncTestClient[Litestar]) -> None:
    response = await production.get("http://smartscheduling.test/healthz", follow_redirects=False)
    assert response.status_code == 200


async def test_production_https_responses_carry_hsts(production: AsyncTestClient[Litestar]) -> None:
    for path in ("/", "/privacy", "/no-such-page", "/static/css/app.css"):
        response = await production.get(path)
        assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        assert_baseline_headers(response.headers)


async def test_production_csrf_cookie_is_host_prefixed_and_secure(production: AsyncTestClient[Litestar]) -> None:
    cookie = (await production.get("/")).headers["set-cookie"]
    assert cookie.startswith("__Host-csrftoken=")
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie
    assert "SameSite=lax" in cookie


def token_of(page_html: str) -> str:
    """The token the page hands to htmx (``hx-headers`` on ``<body>``)."""
    match = re.search(r'<body hx-headers=\'\{"x-csrftoken": "([0-9a-f]+)"\}\'>', page_html)
    assert match, "page carries no CSRF token for htmx"
    return match[1]


async def test_csrf_refuses_a_post_without_token(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/")
    response = await client.post("/_test/form", data={"name": "Ada"})
    assert response.status_code == 403
    assert "This form has expired or was sent from another site" in response.text
    assert "<main" in response.text  # the error page is in the layout


async def test_csrf_accepts_the_form_field_and_the_htmx_header(client: AsyncTestClient[Litestar]) -> None:
    token = token_of((await client.get("/")).text)
    assert unmask(token) == client.cookies["csrftoken"]  # the page carries it masked
    by_field = await client.post("/_test/form", data={"name": "Ada", "_csrf_token": token})
    assert by_field.status_code == 201
    assert by_field.text == "received Ada"
    by_header = await client.post(
        "/_test/form", data={"name": "Grace"}, headers={"x-csrftoken": token, "hx-request": "true"}
    )
    assert by_header.status_code == 201
    assert by_header.text == "received Grace"


async def test_csrf_refuses_forged_and_query_string_tokens(client: AsyncTestClient[Litestar]) -> None:
    token = token_of((await client.get("/")).text)
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    assert (await client.post("/_test/form", data={"_csrf_token": forged})).status_code == 403
    assert (await client.post(f"/_test/form?_csrf_token={token}", data={"name": "x"})).status_code == 403
    client.cookies.clear()
    assert (await client.post("/_test/form", data={"_csrf_token": token})).status_code == 403


async def test_csrf_refusal_for_htmx_lands_in_the_alert_region(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/")
    response = await client.post("/_test/form", data={"name": "x"}, headers={"hx-request": "true"})
    assert response.status_code == 403
    assert response.headers["hx-retarget"] == "#alerts"
    assert response.headers["hx-reswap"] == "innerHTML"
    assert response.text.lstrip().startswith('<div class="alert alert--error" role="alert">')
    assert "<html" not in response.text


async def test_the_page_token_is_masked_afresh_for_every_response(client: AsyncTestClient[Litestar]) -> None:
    """BREACH: a compressed page must not repeat a secret an attacker can probe for."""
    tokens = {token_of((await client.get("/")).text) for _ in range(3)}
    assert len(tokens) == 3
    assert {unmask(token) for token in tokens} == {client.cookies["csrftoken"]}
    for token in tokens:
        assert (await client.post("/_test/form", data={"name": "Ada", "_csrf_token": token})).status_code == 201
    plain = client.cookies["csrftoken"]  # the unmasked token is accepted too
    assert (await client.post("/_test/form", data={"name": "Ada", "_csrf_token": plain})).status_code == 201


async def test_the_csrf_cookie_is_httponly(client: AsyncTestClient[Litestar]) -> None:
    cookie = (await client.get("/")).headers["set-cookie"]
    assert cookie.startswith("csrftoken=")
    assert "HttpOnly" in cookie


async def test_head_is_answered_wherever_get_is(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    for path in [*pages(app), "/no-such-page", "/static/css/app.css"]:
        got, head = await client.get(path), await client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert_baseline_headers(head.headers)
