"""Versioned policies over HTTP: reading, history, diffs, publishing, notices (both databases)."""

from __future__ import annotations

import asyncio
import datetime
import re
import uuid
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from smartscheduling.accounts.models import Role
from smartscheduling.app import create_app
from smartscheduling.audit.models import AuditEvent
from smartscheduling.audit.service import SYSTEM
from smartscheduling.policies import text as policy_text
from smartscheduling.policies.models import PolicyAcknowledgement, PolicyCampaign, PolicyKind, PolicyVersion
from smartscheduling.policies.services import PolicyService, PublishRaceError, revision
from smartscheduling.policies.text import DATA_DIR
from tests.conftest import make_settings
from tests.helpers import csrf_token, field_errors, post_form, publish, sign_in, statements
from tests.test_pages import visible_text

PRIVACY_V1 = (DATA_DIR / "privacy-v1.txt").read_text(encoding="utf-8")
TERMS_V1 = (DATA_DIR / "terms-v1.txt").read_text(encoding="utf-8")
EDITED = PRIVACY_V1.replace("we use a secured communication protocol", "we only use a secured communication protocol")
ONLY_HTTPS = {"text": EDITED, "summary": "Only HTTPS.", "effective_on": "2099-01-01"}


async def versions(engine: AsyncEngine, kind: PolicyKind = PolicyKind.PRIVACY) -> list[PolicyVersion]:
    async with AsyncSession(engine) as session:
        statement = select(PolicyVersion).where(PolicyVersion.kind == kind, PolicyVersion.number.is_not(None))
        return list((await session.scalars(statement.order_by(PolicyVersion.number))).all())


async def count(engine: AsyncEngine, model: type) -> int:
    async with AsyncSession(engine) as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


# --- reading ------------------------------------------------------------------------------


async def test_each_policy_shows_its_latest_version_with_the_effective_date(
    client: AsyncTestClient[Litestar],
) -> None:
    for path, title in (("/privacy", "Privacy Policy"), ("/cookies/policy", "Cookie Policy"), ("/terms", "Terms")):
        page = await client.get(path)
        assert page.status_code == 200, path
        text = visible_text(page.text)
        assert title in text
        assert "Version 1, effective 25 November 2026." in text
        assert f'href="{path}/history"' in page.text


async def test_privacy_shows_where_data_is_stored_from_the_settings_and_links_the_register(
    db_url: str, tmp_path: Path
) -> None:
    app = create_app(make_settings(db_url, tmp_path, data_location="Canada (Montréal)"))
    async with AsyncTestClient(app) as client:
        page = (await client.get("/privacy")).text
    assert 'id="where-your-data-is-stored"' in page
    assert "stored in <strong>Canada (Montréal)</strong>" in page
    assert 'href="/privacy/processors"' in page


async def test_sign_up_transfer_notice_links_to_the_storage_notice(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/signup")).text
    notice = page[page.index("data-transfer-notice") :]
    assert 'href="/privacy#where-your-data-is-stored"' in notice[: notice.index("</fieldset>")]


async def test_a_new_version_becomes_the_latest_and_history_lists_both(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, summary="We say 'only' HTTPS.")
    latest = visible_text((await client.get("/privacy")).text)
    assert "Version 2, effective" in latest
    assert "we only use a secured communication protocol" in latest
    history = (await client.get("/privacy/history")).text
    assert 'href="/privacy/v/2">Version 2</a>' in history
    assert 'href="/privacy/v/1">Version 1</a>' in history
    assert "We say &#39;only&#39; HTTPS." in history
    assert 'href="/privacy/diff?from=1&amp;to=2"' in history
    old = (await client.get("/privacy/v/1")).text
    assert "This is an earlier version." in visible_text(old)
    assert "we only use" not in old


async def test_the_diff_marks_insertions_and_deletions_beyond_colour(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await publish(db_engine, PolicyKind.PRIVACY, EDITED)
    page = await client.get("/privacy/diff", params={"from": "1", "to": "2"})
    assert page.status_code == 200
    assert re.search(r'<ins[^>]*><span class="visually-hidden">Added: </span>only ?</ins>', page.text)
    assert "1 paragraph changed" in visible_text(page.text)
    reverse = await client.get("/privacy/diff", params={"from": "2", "to": "1"})
    assert re.search(r'<del[^>]*><span class="visually-hidden">Removed: </span>only ?</del>', reverse.text)
    assert (await client.get("/privacy/diff")).text.count("<ins") == page.text.count("<ins")  # defaults: latest


async def test_diff_or_version_that_does_not_exist_is_a_404_page(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await publish(db_engine, PolicyKind.PRIVACY, EDITED)
    for path in ("/privacy/diff?from=1&to=7", "/privacy/diff?from=9&to=2", "/privacy/v/3", "/terms/v/2"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "<h1" in response.text
        assert "There is no version" in response.text
    assert (await client.get("/privacy/diff?from=one&to=2")).status_code == 400
    assert (await client.get("/terms/diff")).status_code == 400  # version 1 has nothing before it


def test_the_shipped_version_1_texts_cannot_change_unnoticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in ("privacy", "cookies", "terms"):
        (tmp_path / f"{kind}-v1.txt").write_text((DATA_DIR / f"{kind}-v1.txt").read_text(encoding="utf-8"))
    monkeypatch.setattr(policy_text, "DATA_DIR", tmp_path)
    assert {row["kind"]: row["text"] for row in policy_text.shipped_versions()}["privacy"] == PRIVACY_V1
    (tmp_path / "terms-v1.txt").write_text(TERMS_V1.replace("Terms", "Conditions"), encoding="utf-8")
    with pytest.raises(policy_text.ShippedTextChangedError, match=r"terms-v1\.txt"):
        policy_text.shipped_versions()


# --- publishing ---------------------------------------------------------------------------


async def start_draft(client: AsyncTestClient[Litestar], kind: str = "privacy") -> str:
    await csrf_token(client, "/staff/policies")
    response = await post_form(client, "/staff/policies/new", {"kind": kind})
    assert response.status_code == 303
    return response.headers["location"]


async def previewed(client: AsyncTestClient[Litestar], editor: str) -> dict[str, str]:
    """The publish form's fields: which saved state of the draft the officer looked at."""
    match = re.search(r'name="previewed" value="([^"]+)"', (await client.get(editor)).text)
    assert match, "no publish form on the editor"
    return {"previewed": match[1]}


async def saved_draft(client: AsyncTestClient[Litestar], make_user, form: dict[str, str]) -> str:
    """An officer signed in, with a privacy-policy draft saved as ``form``; its editor's path."""
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in(client, officer.email)
    editor = await start_draft(client)
    assert (await post_form(client, editor, form)).status_code == 303
    return editor


async def test_only_privacy_officers_and_admins_may_publish(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    anonymous = await client.get("/staff/policies", follow_redirects=False)
    assert anonymous.headers["location"] == "/login?next=%2Fstaff%2Fpolicies"
    client_user = await make_user()
    await sign_in(client, client_user.email)
    assert (await client.get("/staff/policies")).status_code == 403
    staff = await make_user(role=Role.STAFF)
    await post_form(client, "/logout", {})
    await sign_in(client, staff.email)
    assert (await client.get("/staff/policies")).status_code == 403
    assert (await post_form(client, "/staff/policies/new", {"kind": "privacy"})).status_code == 403
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        draft = PolicyVersion(kind=PolicyKind.PRIVACY, text=EDITED, summary="x")
        session.add(draft)
        await session.commit()
        draft_id = draft.id
    assert (await post_form(client, f"/staff/policies/drafts/{draft_id}/publish", {})).status_code == 403
    assert len(await versions(db_engine)) == 1


async def test_officer_drafts_previews_and_publishes(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in(client, officer.email)
    editor = await start_draft(client)
    page = (await client.get(editor)).text
    assert "The text is the same as version 1" in page  # a fresh draft is a copy: nothing to publish
    assert 'disabled aria-disabled="true">Publish version 2' in page
    bad = await post_form(client, editor, {"text": EDITED, "summary": "", "effective_on": "2020-13-01"})
    assert bad.status_code == 422
    assert "effective_on" in field_errors(bad.text)
    saved = await post_form(client, editor, {"text": EDITED, "summary": "Only HTTPS.", "effective_on": "2099-01-01"})
    assert saved.status_code == 303
    preview = (await client.get(editor)).text
    assert "we only use a secured communication protocol" in preview  # rendered
    assert re.search(r"<ins[^>]*>.*?only", preview)  # and as a diff against version 1
    published = await post_form(client, f"{editor}/publish", await previewed(client, editor))
    assert (published.status_code, published.headers["location"]) == (303, "/privacy/v/2")
    [_, second] = await versions(db_engine)
    assert (second.text, second.summary, second.published_by_id) == (EDITED.strip(), "Only HTTPS.", officer.id)
    assert await count(db_engine, PolicyCampaign) == 0  # not significant: nobody is e-mailed
    async with AsyncSession(db_engine) as session:
        actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == officer.id))).all()
    assert {"policy.draft_created", "policy.draft_saved", "policy.published"} <= set(actions)


async def test_a_published_version_can_never_be_edited(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    editor = await saved_draft(client, make_user, ONLY_HTTPS)
    await post_form(client, f"{editor}/publish", await previewed(client, editor))
    again = await post_form(client, editor, {"text": "Rewritten", "summary": "x", "effective_on": "2099-01-01"})
    assert (again.status_code, again.headers["location"]) == (303, "/privacy/v/2")
    assert (await client.get(editor, follow_redirects=False)).headers.get("location") == "/privacy/v/2"
    discard = await post_form(client, f"{editor}/discard", {})
    assert discard.status_code == 303
    assert [v.text for v in await versions(db_engine)] == [PRIVACY_V1, EDITED.strip()]


async def test_publishing_problems_are_shown_not_published(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in(client, officer.email)
    editor = await start_draft(client, "terms")
    response = await post_form(client, f"{editor}/publish", await previewed(client, editor))
    assert response.status_code == 422
    assert "there is nothing to publish" in response.text
    assert "Say in a few words what changed" in response.text
    assert len(await versions(db_engine, PolicyKind.TERMS)) == 1


async def test_publishing_twice_makes_one_version_and_one_campaign(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    form = {"text": EDITED, "summary": "Only HTTPS.", "effective_on": "2099-01-01", "significant": "true"}
    editor = await saved_draft(client, make_user, form)
    seen = await previewed(client, editor)
    # The same form sent three times, as an impatient double (and triple) click sends it.
    first, second, third = [await post_form(client, f"{editor}/publish", seen) for _ in range(3)]
    locations = {r.headers["location"] for r in (first, second, third)}
    assert len(locations) == 1
    assert next(iter(locations)).startswith("/staff/campaigns/")
    assert [v.number for v in await versions(db_engine)] == [1, 2]
    assert await count(db_engine, PolicyCampaign) == 1


async def test_a_draft_saved_again_after_the_preview_is_not_published_unseen(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    editor = await saved_draft(client, make_user, ONLY_HTTPS)
    seen = await previewed(client, editor)
    rewritten = EDITED + "\nA paragraph a colleague added in another tab.\n"
    await post_form(client, editor, {**ONLY_HTTPS, "text": rewritten})
    stale = await post_form(client, f"{editor}/publish", seen)
    assert stale.status_code == 409
    assert "saved again after you previewed it" in stale.text
    assert "A paragraph a colleague added" in stale.text  # the editor shows the draft as it is now
    assert len(await versions(db_engine)) == 1
    assert (await post_form(client, f"{editor}/publish", await previewed(client, editor))).status_code == 303
    assert "A paragraph a colleague added" in (await versions(db_engine))[-1].text


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite has one writer at a time
async def test_two_drafts_published_at_the_same_moment_make_one_version_and_a_conflict(db_engine: AsyncEngine) -> None:
    drafts: dict[str, PolicyVersion] = {}
    async with AsyncSession(db_engine, expire_on_commit=False) as session:
        service = PolicyService(session)
        for summary in ("Mine.", "Theirs."):
            draft = await service.create_draft(PolicyKind.PRIVACY, actor=SYSTEM)
            drafts[summary] = await service.save_draft(
                draft.id, text=f"{EDITED}\n{summary}\n", summary=summary, significant=False,
                effective_on=datetime.date(2099, 1, 1), actor=SYSTEM,
            )  # fmt: skip
    mine = drafts["Mine."]
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with db_engine.connect() as colleague, db_engine.connect() as watcher, AsyncSession(db_engine) as session:
        # A colleague's publish of version 2 is written but not committed yet...
        await colleague.execute(
            update(PolicyVersion)
            .where(PolicyVersion.id == drafts["Theirs."].id)
            .values(number=2, published_at=func.now(), updated_at=func.now())
        )
        # ...when mine, also computed as version 2, has to wait for it.
        publishing = asyncio.create_task(
            PolicyService(session).publish(mine.id, previewed=revision(mine), actor=SYSTEM)
        )
        while not await watcher.scalar(waiting):
            await watcher.rollback()  # pg_stat_activity is read once per transaction
            assert not publishing.done(), publishing.result()
        await colleague.commit()
        with pytest.raises(PublishRaceError):
            await publishing
    assert [(v.number, v.summary) for v in await versions(db_engine)][1:] == [(2, "Theirs.")]
    async with AsyncSession(db_engine) as session:
        assert (await session.get_one(PolicyVersion, mine.id)).is_draft  # nothing of mine was half-published


# --- the notice of a significant change ---------------------------------------------------


async def test_members_see_the_notice_until_they_acknowledge_it(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    member = await make_user()
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await sign_in(client, member.email)
    page = (await client.get("/")).text
    assert "Our privacy policy changed on" in page
    assert 'href="/privacy/diff?from=1&amp;to=2">See what changed' in page
    response = await post_form(client, "/policies/acknowledge", {"kind": "privacy"}, htmx=True)
    assert response.status_code == 200
    assert "we recorded that you have seen the new privacy policy" in response.text
    assert "Our privacy policy changed on" not in (await client.get("/")).text
    async with AsyncSession(db_engine) as session:
        acks = (
            await session.scalars(select(PolicyAcknowledgement).where(PolicyAcknowledgement.user_id == member.id))
        ).all()
    assert [(a.document, a.version, a.context) for a in acks] == [("privacy", 2, "notice")]
    your_data = visible_text((await client.get("/profile/data")).text)
    assert "version 2" in your_data
    assert "(notice)" in your_data
    export = await post_form(client, "/profile/export", {})
    assert export.status_code == 200


async def test_the_notices_are_looked_up_only_for_full_pages(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    """htmx requests get fragments that never show the notices: no query for them."""
    member = await make_user()
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    await sign_in(client, member.email)
    with statements() as sent:
        row = await client.get("/profile/row/name", headers={"hx-request": "true"})
        assert row.status_code == 200
        assert not [s for s in sent if "policy_acknowledgement" in s], "an htmx fragment looked up the policy notices"
        page = await client.get("/profile")
        assert "Our privacy policy changed on" in page.text
        assert len([s for s in sent if "policy_acknowledgement" in s]) == 1


async def test_no_notice_query_for_someone_who_joined_after_every_significant_change(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    member = await make_user()
    await sign_in(client, member.email)
    with statements() as sent:
        page = await client.get("/profile")
    assert page.status_code == 200
    assert not [s for s in sent if "policy_acknowledgement" in s], "looked up notices that cannot be due"


async def test_no_notice_for_a_minor_change_or_for_someone_who_joined_after_it(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    before = await make_user()
    await publish(db_engine, PolicyKind.TERMS, "Terms of Service\n\nShorter terms, same meaning.")
    await sign_in(client, before.email)
    assert "changed on" not in (await client.get("/")).text
    await publish(db_engine, PolicyKind.PRIVACY, EDITED, significant=True)
    after = await make_user()
    await post_form(client, "/logout", {})
    await sign_in(client, after.email)
    assert "Our privacy policy changed on" not in (await client.get("/")).text


async def test_sign_up_records_the_latest_privacy_version(
    client: AsyncTestClient[Litestar], db_engine: AsyncEngine
) -> None:
    await publish(db_engine, PolicyKind.PRIVACY, EDITED)
    form = (await client.get("/signup")).text
    assert '<label for="f-accept_policy">I have read the <a href="/privacy">privacy policy</a> (version 2).' in form
    response = await post_form(
        client,
        "/signup",
        {
            "name": "Nia New",
            "email": f"nia-{uuid.uuid4().hex[:6]}@example.com",
            "password": "a long and unusual passphrase 2026",
            "date_of_birth": "1990-04-23",
            "country": "US",
            "accept_policy": "true",
        },
    )
    assert response.status_code == 303, field_errors(response.text)
    async with AsyncSession(db_engine) as session:
        acks = (await session.scalars(select(PolicyAcknowledgement.version))).all()
    assert acks == [2]


# --- the cookie policy and the consent banner ----------------------------------------------


async def test_publishing_a_cookie_policy_version_brings_the_banner_back(
    client: AsyncTestClient[Litestar], make_user, db_engine: AsyncEngine
) -> None:
    await csrf_token(client, "/")
    await post_form(client, "/consent", {"choice": "accept-all", "next": "/"})
    assert "Cookies on Smart Scheduling" not in (await client.get("/")).text
    officer = await make_user(role=Role.PRIVACY_OFFICER)
    await sign_in(client, officer.email)
    editor = await start_draft(client, "cookies")
    text = (DATA_DIR / "cookies-v1.txt").read_text() + "\nWe now also count visits per hour.\n"
    await post_form(client, editor, {"text": text, "summary": "Hourly counts.", "effective_on": "2099-01-01"})
    assert (await post_form(client, f"{editor}/publish", await previewed(client, editor))).status_code == 303
    page = (await client.get("/")).text
    assert "Cookies on Smart Scheduling" in page
    assert "Our cookie policy has changed" in page
