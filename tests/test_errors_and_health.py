"""Error pages in the layout (htmx-aware, no traces in production), probes, request log."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar, MediaType, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from smartscheduling.app import create_app
from smartscheduling.logs import JsonFormatter
from smartscheduling.refusals import Refusal, RefusedError
from smartscheduling.security.throttle import Decision, TooManyAttemptsError
from tests.conftest import make_settings

#: Nothing listens on port 1: connections are refused at once.
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/test"


@get("/_test/boom", sync_to_thread=False)
def boom() -> str:
    msg = "kaboom with secret detail"
    raise RuntimeError(msg)


@get("/_test/query", media_type=MediaType.TEXT)
async def query(db_session: NamedDependency[AsyncSession]) -> str:
    return str(await db_session.scalar(text("SELECT 1")))


@get("/_test/number", media_type=MediaType.TEXT, sync_to_thread=False)
def number(n: FromQuery[int]) -> str:
    return str(n)


class SeatTakenError(RefusedError):
    kind = Refusal.CONFLICT
    sentence = "Somebody took that seat a moment ago."


@get("/_test/refused/{kind:str}", sync_to_thread=False)
def refused(kind: FromPath[str]) -> str:
    if kind == "conflict":
        raise SeatTakenError
    if kind == "too-many":
        raise TooManyAttemptsError("tries", Decision(allowed=False, count=9, retry_after_seconds=90))
    raise RefusedError(problems={"name": "No names with digits.", "__all__": "Please check the name."})


def with_probes(app: Litestar) -> Litestar:
    for handler in (boom, query, number, refused):
        app.register(handler)
    return app


@pytest.fixture
def app(settings) -> Litestar:
    return with_probes(create_app(settings))


@pytest.fixture
async def production(db_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(db_url, tmp_path, app_env="production", base_url="https://smartscheduling.test")
    async with AsyncTestClient(app=with_probes(create_app(settings)), base_url="https://smartscheduling.test") as c:
        yield c


@pytest.fixture
async def database_down(tmp_path: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(UNREACHABLE_DATABASE, tmp_path)
    async with AsyncTestClient(app=with_probes(create_app(settings)), base_url="http://testserver.local") as c:
        yield c


async def test_not_found_is_a_page_in_the_layout(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>Page not found · Smart Scheduling</title>" in html
    assert '<main id="main"' in html
    assert 'aria-label="Main"' in html  # header navigation
    assert f"<code>{response.headers['x-request-id']}</code>" in html


async def test_errors_for_htmx_are_fragments_for_the_alert_region(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/page", headers={"hx-request": "true"})
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#alerts"
    assert "<html" not in response.text
    assert 'role="alert"' in response.text
    assert "Page not found." in response.text


@pytest.mark.parametrize(
    ("kind", "status", "sentence"),
    [
        ("invalid", 422, "No names with digits.; Please check the name."),
        ("conflict", 409, "Somebody took that seat a moment ago."),
        ("too-many", 429, "Too many tries. Please wait 2 minutes and try again."),
    ],
)
async def test_a_refusal_no_form_shows_is_a_page_with_its_status_and_sentence(
    client: AsyncTestClient[Litestar], kind: str, status: int, sentence: str
) -> None:
    page = await client.get(f"/_test/refused/{kind}")
    assert page.status_code == status
    assert sentence in page.text
    assert "<main" in page.text
    assert page.headers.get("retry-after") == ("90" if kind == "too-many" else None)
    alert = await client.get(f"/_test/refused/{kind}", headers={"hx-request": "true"})
    assert alert.status_code == status
    assert alert.headers["hx-retarget"] == "#alerts"
    assert sentence in alert.text
    assert "<html" not in alert.text


async def test_method_not_allowed_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.put("/privacy")
    assert response.status_code == 405
    assert "This page cannot be used that way." in response.text
    assert "<main" in response.text


async def test_bad_request_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/_test/number?n=abc")
    assert response.status_code == 400
    assert "We could not understand that request" in response.text


async def test_unhandled_error_shows_trace_in_development_only(
    client: AsyncTestClient[Litestar], production: AsyncTestClient[Litestar]
) -> None:
    dev = await client.get("/_test/boom")
    assert dev.status_code == 500
    assert "Something went wrong on our side" in dev.text
    assert "RuntimeError: kaboom with secret detail" in dev.text

    prod = await production.get("/_test/boom")
    assert prod.status_code == 500
    assert "Something went wrong on our side" in prod.text
    assert "kaboom" not in prod.text
    assert "Traceback" not in prod.text
    assert f"<code>{prod.headers['x-request-id']}</code>" in prod.text


async def test_healthz_needs_no_database(database_down: AsyncTestClient[Litestar]) -> None:
    response = await database_down.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"
    assert "set-cookie" not in response.headers


async def test_readyz_reports_a_reachable_database(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.text == "ready"


async def test_readyz_is_503_when_the_database_is_unreachable(database_down: AsyncTestClient[Litestar]) -> None:
    response = await database_down.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"


async def test_a_page_needing_the_database_answers_503_when_it_is_down(
    database_down: AsyncTestClient[Litestar],
) -> None:
    response = await database_down.get("/_test/query")
    assert response.status_code == 503
    assert "We cannot reach our database right now" in response.text
    assert response.headers["retry-after"] == "30"
    assert "<main" in response.text


async def test_one_structured_log_line_per_request_without_personal_data(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smartscheduling.request")
    response = await client.get(
        "/privacy?email=ada%40example.com", headers={"x-request-id": "proxy-req-12345678", "cookie": "a=b"}
    )
    assert response.headers["x-request-id"] == "proxy-req-12345678"
    records = [r for r in caplog.records if r.name == "smartscheduling.request"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "request"
    assert entry["request_id"] == "proxy-req-12345678"
    assert entry["method"] == "GET"
    assert entry["route"] == "/privacy"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float)
    assert "ada" not in line
    assert "example.com" not in line
    assert "127.0.0.1" not in line


async def test_malformed_request_ids_are_replaced(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/", headers={"x-request-id": "bad id\r\nx"})
    assert response.headers["x-request-id"] != "bad id\r\nx"
    assert len(response.headers["x-request-id"]) == 32


async def test_paths_are_logged_as_route_templates_never_with_their_values(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smartscheduling.request")
    await client.get("/password/reset/secret-token-value")
    await client.get("/no/such/page/secret-path-value")
    matched, unmatched = (
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "smartscheduling.request"
    )
    assert matched["route"] == "/password/reset/{token}"
    assert unmatched["route"] == "-"
    assert "secret" not in caplog.text
