"""Cookie consent over HTTP, on both databases: the banner, decisions and their proof,
bad input, GPC, re-consent, receipts, linking at sign-in, and analytics counts."""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import zipfile

import pytest
from litestar import Litestar, Response, get
from litestar.datastructures import Cookie
from litestar.testing import AsyncTestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.app import create_app
from smartscheduling.config import ConfigError, Settings
from smartscheduling.consent.decision import Decision, new_consent_id
from smartscheduling.consent.models import ConsentMethod, ConsentRecord, PageViewCount
from smartscheduling.consent.registry import COOKIES
from smartscheduling.db import utcnow
from tests.conftest import PASSWORD, TEST_SECRET
from tests.helpers import csrf_token, post_form, sign_in

BANNER = 'id="consent-banner"'


async def records(engine: AsyncEngine) -> list[ConsentRecord]:
    async with AsyncSession(engine) as session:
        return list((await session.scalars(select(ConsentRecord).order_by(ConsentRecord.decided_at))).all())


async def decide(client: AsyncTestClient[Litestar], choice: str, *categories: str, **extra: str):
    token = client.cookies.get("csrftoken") or await csrf_token(client, "/")
    data: dict[str, object] = {"_csrf_token": token, "choice": choice, "next": "/privacy", **extra}
    if categories:
        data["categories"] = list(categories)
    headers = {k.replace("_", "-"): v for k, v in extra.items() if k in ("hx_request", "sec_gpc")}
    data = {k: v for k, v in data.items() if k not in ("hx_request", "sec_gpc")}
    return await client.post("/consent", data=data, headers=headers, follow_redirects=False)


def accepted_all(decided_at: datetime.datetime, settings: Settings) -> str:
    """A consent cookie as the app would have signed it at ``decided_at``."""
    decision = Decision(new_consent_id(), 1, preferences=True, analytics=True, analytics_despite_gpc=False,
                        decided_at=decided_at)  # fmt: skip
    return decision.encode(settings.secret_key)


def set_cookie_names(response) -> list[str]:
    return [header.split("=", 1)[0] for header in response.headers.get_list("set-cookie")]


# --- the banner and the three choices ---------------------------------------------------


async def test_a_first_visit_shows_the_banner_with_three_equal_choices(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/")).text
    assert BANNER in page
    assert 'aria-labelledby="consent-title"' in page
    accept = page.index('value="accept-all" class="consent-choice">Accept all')
    reject = page.index('value="reject-all" class="consent-choice">Reject all')
    choose = page.index('class="button consent-choice" href="/cookies/preferences">Choose')
    assert accept < reject < choose  # one row, same class: same size, weight and prominence
    assert 'name="next" value="/"' in page
    assert "consent" not in client.cookies  # nothing decided, nothing remembered


async def test_reject_all_records_the_decision_and_sets_only_the_consent_cookie(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    response = await decide(client, "reject-all")
    assert response.status_code == 303
    assert response.headers["location"] == "/privacy"
    assert set_cookie_names(response) == ["consent"]
    assert "HttpOnly" in response.headers["set-cookie"]
    [record] = await records(db_engine)
    assert (record.method, record.preferences, record.analytics, record.gpc) == (
        ConsentMethod.REJECT_ALL,
        False,
        False,
        False,
    )
    assert record.policy_version == 1
    assert record.user_id is None
    assert BANNER not in (await client.get("/")).text


async def test_a_consent_record_holds_no_address(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: [c["name"] for c in inspect(sync).get_columns("consent_record")]
        )
    assert not [name for name in columns if "ip" in name.split("_") or "agent" in name or "address" in name]


async def test_accept_all_with_htmx_replaces_the_banner_in_place(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    response = await decide(client, "accept-all", hx_request="true")
    assert response.status_code == 200
    assert response.text.startswith('<div id="consent-banner"')
    assert "all cookies allowed" in response.text
    [record] = await records(db_engine)
    assert (record.method, record.preferences, record.analytics) == (ConsentMethod.ACCEPT_ALL, True, True)


async def test_a_custom_choice_records_exactly_the_ticked_categories(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    assert (await decide(client, "custom", "analytics")).status_code == 303
    [record] = await records(db_engine)
    assert (record.method, record.preferences, record.analytics) == (ConsentMethod.CUSTOM, False, True)
    page = (await client.get("/cookies/preferences")).text
    assert 'value="analytics"\n          aria-describedby="c-analytics-text" checked' in page
    assert 'value="preferences"\n          aria-describedby="c-preferences-text">' in page


async def test_a_new_decision_is_a_new_record_under_the_same_consent_id(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await decide(client, "accept-all")
    await decide(client, "reject-all")
    first, second = await records(db_engine)
    assert first.consent_id == second.consent_id
    assert (first.method, second.method) == (ConsentMethod.ACCEPT_ALL, ConsentMethod.REJECT_ALL)


@pytest.mark.parametrize(
    ("choice", "categories", "message"),
    [
        ("accept-everything", (), "Please choose Accept all, Reject all or your own selection."),
        ("gpc", (), "Please choose Accept all, Reject all or your own selection."),
        ("custom", ("marketing",), "There is no cookie category called &#39;marketing&#39;."),
        ("custom", ("necessary",), "Strictly necessary cookies are always on"),
    ],
)
async def test_bad_choices_are_refused_and_nothing_is_recorded(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, *, choice: str, categories: tuple[str, ...], message: str
) -> None:
    response = await decide(client, choice, *categories)
    assert response.status_code == 422
    assert message in response.text
    assert await records(db_engine) == []
    assert "consent" not in set_cookie_names(response)


async def test_a_decision_without_csrf_token_is_refused(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await client.get("/")
    response = await client.post("/consent", data={"choice": "accept-all"}, follow_redirects=False)
    assert response.status_code == 403
    assert await records(db_engine) == []


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_the_return_path_never_leaves_the_site(client: AsyncTestClient[Litestar], *, target: str) -> None:
    response = await decide(client, "reject-all", next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda value: value.replace(".0.", ".pa.", 1) if ".0." in value else value.replace("..", ".pa.", 1),
        lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),
        lambda _: "garbage",
        lambda _: "1.short.1.pa.1700000000.mac",
    ],
)
async def test_a_forged_or_malformed_consent_cookie_is_no_decision(client: AsyncTestClient[Litestar], tamper) -> None:
    await decide(client, "reject-all")
    client.cookies.set("consent", tamper(client.cookies["consent"]))
    page = (await client.get("/")).text
    assert BANNER in page  # asked again; nothing optional allowed meanwhile
    assert 'class="text-standard"' in page


# --- Global Privacy Control -------------------------------------------------------------


async def test_with_gpc_the_banner_says_so_and_accept_all_leaves_analytics_off(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    page = (await client.get("/", headers={"Sec-GPC": "1"})).text
    assert "Global Privacy Control signal. We honour it" in page
    await decide(client, "accept-all", sec_gpc="1")
    [record] = await records(db_engine)
    assert (record.method, record.preferences, record.analytics, record.gpc) == (
        ConsentMethod.ACCEPT_ALL,
        True,
        False,
        True,
    )


async def test_with_gpc_an_explicit_analytics_choice_is_honoured(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await decide(client, "custom", "analytics", sec_gpc="1")
    await client.get("/privacy", headers={"Sec-GPC": "1"})
    assert await views(db_engine, "/privacy") == 1
    assert len(await records(db_engine)) == 1  # no withdrawal recorded: the opt-in came after the signal


async def test_gpc_after_accepting_analytics_withdraws_it_once_and_records_it(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await decide(client, "accept-all")
    before = client.cookies["consent"]
    await client.get("/privacy", headers={"Sec-GPC": "1"})
    assert await views(db_engine, "/privacy") == 0
    accepted, withdrawn = await records(db_engine)
    assert (withdrawn.method, withdrawn.preferences, withdrawn.analytics, withdrawn.gpc) == (
        ConsentMethod.GPC,
        True,
        False,
        True,
    )
    assert withdrawn.consent_id == accepted.consent_id
    # The browser got the new decision; replaying the old cookie records nothing more.
    assert client.cookies["consent"] != before
    client.cookies.set("consent", before)
    await client.get("/privacy", headers={"Sec-GPC": "1"})
    assert len(await records(db_engine)) == 2


# --- re-consent -------------------------------------------------------------------------


async def test_a_decision_older_than_the_setting_brings_the_banner_back(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    def aged(months: float) -> str:
        return accepted_all(utcnow() - datetime.timedelta(days=months * 30.5), settings)

    client.cookies.set("consent", aged(11))
    assert BANNER not in (await client.get("/")).text
    client.cookies.set("consent", aged(12.5))
    assert BANNER in (await client.get("/")).text


@pytest.mark.parametrize(("months", "accepted"), [("12", True), ("13", True), ("14", False), ("0", False)])
def test_the_reconsent_age_is_at_most_13_months(*, months: str, accepted: bool) -> None:
    env = {"CONSENT_MAX_AGE_MONTHS": months, "SECRET_KEY": TEST_SECRET}
    if accepted:
        assert Settings.from_env(env).consent_max_age_months == int(months)
    else:
        with pytest.raises(ConfigError, match="CONSENT_MAX_AGE_MONTHS"):
            Settings.from_env(env)


# --- proof: receipts, linking, "Your data", export --------------------------------------


async def test_the_receipt_lists_the_current_and_every_past_decision(client: AsyncTestClient[Litestar]) -> None:
    await decide(client, "accept-all")
    await decide(client, "custom", "preferences")
    response = await client.get("/cookies/receipt")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="consent-receipt.json"'
    receipt = response.json()
    assert receipt["current"]["choices"] == {"necessary": True, "preferences": True, "analytics": False}
    assert [d["method"] for d in receipt["decisions"]] == ["custom", "accept-all"]
    assert {d["consent_id"] for d in receipt["decisions"]} == {receipt["consent_id"]}


async def test_a_receipt_without_any_decision_is_empty(client: AsyncTestClient[Litestar]) -> None:
    receipt = (await client.get("/cookies/receipt")).json()
    assert (receipt["current"], receipt["decisions"]) == (None, [])


async def test_anonymous_decisions_become_the_users_at_sign_in_and_show_in_your_data_and_export(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    user = await make_user(email="carla@example.com")
    await decide(client, "custom", "preferences")
    assert (await sign_in(client, user.email)).status_code == 303
    [record] = await records(db_engine)
    assert record.user_id == user.id
    await decide(client, "reject-all")
    assert {r.user_id for r in await records(db_engine)} == {user.id}
    data = (await client.get("/profile/data")).text
    history = data[data.index('id="cookie-consents"') :]
    assert history.count("<td>Own choice</td>") == 1
    assert history.count("<td>Reject all</td>") == 1
    archive = zipfile.ZipFile(io.BytesIO((await post_form(client, "/profile/export", {})).content))
    rows = json.loads(archive.read("data.json"))["sections"]["cookie_consents"]["rows"]
    assert [(r["method"], r["preferences"]) for r in rows] == [("custom", True), ("reject-all", False)]


async def test_closing_the_account_deletes_its_consent_records(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine, make_user
) -> None:
    user = await make_user(email="dora@example.com")
    await sign_in(client, user.email)
    await decide(client, "accept-all")
    assert len(await records(db_engine)) == 1
    response = await post_form(client, "/profile/close", {"current_password": PASSWORD})
    assert response.status_code == 303
    assert await records(db_engine) == []


# --- analytics and preferences, for real --------------------------------------------------


async def views(engine: AsyncEngine, route: str) -> int:
    async with AsyncSession(engine) as session:
        return await session.scalar(
            select(func.coalesce(func.sum(PageViewCount.views), 0)).where(PageViewCount.route == route)
        )


async def test_page_views_are_counted_per_route_only_with_analytics_consent(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await client.get("/privacy")
    await decide(client, "reject-all")
    await client.get("/privacy")
    assert await views(db_engine, "/privacy") == 0
    await decide(client, "custom", "analytics")
    await client.get("/privacy")
    await client.get("/privacy")
    await client.get("/privacy", headers={"hx-request": "true"})  # a fragment is not a page view
    await client.get("/no-such-page")
    assert await views(db_engine, "/privacy") == 2
    async with AsyncSession(db_engine) as session:
        assert set(await session.scalars(select(PageViewCount.route))) == {"/privacy"}


async def test_the_text_size_is_remembered_only_with_preferences_consent(client: AsyncTestClient[Litestar]) -> None:
    assert "allow it in Cookie settings first" in (await post_form(client, "/display", {"text_size": "large"})).text
    assert "display" not in client.cookies
    await decide(client, "custom", "preferences")
    response = await post_form(client, "/display", {"text_size": "large"})
    assert response.status_code == 303
    assert 'class="text-large"' in (await client.get("/")).text
    assert (await post_form(client, "/display", {"text_size": "huge"})).status_code == 422


async def test_withdrawing_preferences_deletes_the_preference_cookie(client: AsyncTestClient[Litestar]) -> None:
    await decide(client, "accept-all")
    await post_form(client, "/display", {"text_size": "larger"})
    assert "display" in client.cookies
    response = await decide(client, "reject-all")
    assert 'display=""; Max-Age=0' in response.headers.get("set-cookie", "").replace("display=;", 'display="";')
    assert "display" not in client.cookies
    assert 'class="text-standard"' in (await client.get("/")).text


async def test_the_page_view_counts_are_for_privacy_officers_and_admins(
    client: AsyncTestClient[Litestar], make_user
) -> None:
    from smartscheduling.accounts.models import Role

    client_user = await make_user(email="eve@example.com")
    officer = await make_user(email="olga@example.com", role=Role.PRIVACY_OFFICER)
    await sign_in(client, client_user.email)
    assert (await client.get("/analytics")).status_code == 403
    await post_form(client, "/logout", {})
    await sign_in(client, officer.email)
    await decide(client, "custom", "analytics")
    await client.get("/privacy")
    page = await client.get("/analytics")
    assert page.status_code == 200
    assert "<code>/privacy</code></td><td>1</td>" in page.text


# --- the register and the firewall --------------------------------------------------------


async def test_the_cookies_page_documents_every_declared_cookie(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/cookies")).text
    for cookie in COOKIES:
        assert f"<code>{cookie.name}</code>" in page
        assert cookie.purpose.replace("'", "&#39;") in page


@get("/_test/cookies", sync_to_thread=False)
def sets_cookies() -> Response[str]:
    return Response("ok", cookies=[Cookie(key="display", value="text:large"), Cookie(key="tracker", value="1")])


@pytest.mark.undeclared_cookies_expected
async def test_the_firewall_drops_unconsented_and_undeclared_cookies(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)
    app.register(sets_cookies)
    async with AsyncTestClient(app) as visitor:
        with caplog.at_level(logging.WARNING, logger="smartscheduling.consent"):
            response = await visitor.get("/_test/cookies")
        assert not {"display", "tracker"} & set(set_cookie_names(response))
        dropped = {(r.getMessage(), r.fields["cookie"]) for r in caplog.records}  # type: ignore[attr-defined]
        assert dropped == {("cookie dropped: no consent", "display"), ("undeclared cookie dropped", "tracker")}
        await decide(visitor, "custom", "preferences")
        response = await visitor.get("/_test/cookies")
        names = set_cookie_names(response)
        assert "display" in names  # consented now
        assert "tracker" not in names  # undeclared: never


# --- found in review ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1.a.b.c.d.%FF", "1.a.b.c.d.%C3%A9", "1." + "A" * 22 + ".1.pa.99999999999.x"])
async def test_a_non_ascii_or_absurd_consent_cookie_is_no_decision_not_an_error(
    client: AsyncTestClient[Litestar], *, value: str
) -> None:
    client.cookies.set("consent", value)
    for path in ("/", "/cookies", "/no-such-page"):
        response = await client.get(path)
        assert response.status_code in (200, 404)
        assert BANNER in response.text


async def test_a_file_in_place_of_a_category_is_refused_cleanly(client: AsyncTestClient[Litestar], db_engine) -> None:
    token = await csrf_token(client, "/")
    response = await client.post(
        "/consent",
        data={"_csrf_token": token, "choice": "custom"},
        files={"categories": ("x.txt", b"analytics")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    [record] = await records(db_engine)
    assert (record.preferences, record.analytics) == (False, False)


async def test_a_gpc_withdrawal_keeps_the_date_of_the_decision(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    decided = utcnow().replace(microsecond=0) - datetime.timedelta(days=300)
    client.cookies.set("consent", accepted_all(decided, settings))
    response = await client.get("/privacy", headers={"Sec-GPC": "1"})
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith("consent=")]
    renewed = Decision.decode(header.split("=", 1)[1].split(";", 1)[0], settings.secret_key)
    assert renewed is not None
    assert (renewed.analytics, renewed.preferences, renewed.decided_at) == (False, True, decided)
    max_age = int(header.split("Max-Age=", 1)[1].split(";", 1)[0])
    assert max_age <= (365 - 300 + 1) * 86400  # the preferences consent still ends on time


async def test_a_page_no_route_matched_offers_every_choice(client: AsyncTestClient[Litestar]) -> None:
    """A 404 page gets a CSRF token of its own, so "Accept all" works there too."""
    page = await client.get("/no-such-page")
    assert page.status_code == 404
    assert BANNER in page.text
    assert 'value="accept-all"' in page.text
    assert 'value="reject-all"' in page.text
    assert 'href="/cookies/preferences">Choose' in page.text
    token = re.search(r'name="_csrf_token" value="([0-9a-f]+)"', page.text)
    assert token, "the 404 page's banner forms carry no token"
    response = await client.post(
        "/consent",
        data={"_csrf_token": token[1], "choice": "accept-all", "next": "/no-such-page"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/no-such-page"
    assert (await client.get("/cookies/receipt")).json()["decisions"]


async def test_a_shared_browser_shows_nobody_another_persons_decisions(
    client: AsyncTestClient[Litestar], make_user
) -> None:
    ada = await make_user(email="ada@example.com")
    await sign_in(client, ada.email)
    await decide(client, "accept-all")
    await post_form(client, "/logout", {})
    assert (await client.get("/cookies/receipt")).json()["decisions"] == []
    bob = await make_user(email="bob@example.com")
    await sign_in(client, bob.email)
    assert (await client.get("/cookies/receipt")).json()["decisions"] == []
