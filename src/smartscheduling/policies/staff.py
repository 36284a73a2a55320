"""Publishing policies (privacy officers; administrators pass every guard): draft,
preview (rendered and as a diff against the current version), publish; and the
progress of the e-mail that tells every user about a significant change."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from msgspec import Meta

from smartscheduling.accounts.guards import requires_role
from smartscheduling.accounts.models import Role
from smartscheduling.audit.service import ActorDep
from smartscheduling.policies.controllers import Policies
from smartscheduling.policies.diff import diff_texts
from smartscheduling.policies.models import PolicyKind, PolicyVersion
from smartscheduling.policies.services import (
    MAX_SUMMARY_CHARACTERS,
    MAX_TEXT_CHARACTERS,
    DraftChangedError,
    DraftInvalidError,
    NotADraftError,
    PolicyService,
    PublishRaceError,
    revision,
)
from smartscheduling.policies.text import parse_cached
from smartscheduling.refusals import RefusedError
from smartscheduling.web.forms import FormState, parse_form
from smartscheduling.web.http import redirect


class DraftForm(msgspec.Struct):
    text: Annotated[str, Meta(title="Policy text", max_length=MAX_TEXT_CHARACTERS, extra={"multiline": True})]
    effective_on: Annotated[datetime.date, Meta(title="Effective date")]
    summary: Annotated[
        str, Meta(title="Summary of changes", max_length=MAX_SUMMARY_CHARACTERS, extra={"multiline": True})
    ] = ""
    significant: bool = False


def draft_state(draft: PolicyVersion) -> FormState:
    return FormState(
        values={
            "text": draft.text,
            "summary": draft.summary,
            "effective_on": draft.effective_on.isoformat() if draft.effective_on else "",
            "significant": "true" if draft.significant else "",
        }
    )


class PolicyStaffController(Controller):
    path = "/staff/policies"
    guards = [requires_role(Role.PRIVACY_OFFICER)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/", name="staff-policies")
    async def overview(self, policies: Policies) -> HTMXTemplate:
        context = {
            "kinds": [(kind, await policies.latest(kind)) for kind in PolicyKind],
            "drafts": await policies.drafts(),
            "campaigns": await policies.campaigns(),
        }
        return HTMXTemplate(template_name="policies/staff/overview.html", context=context)

    @post("/new", name="new-draft")
    async def new_draft(self, request: HTMXRequest, actor: ActorDep, policies: Policies) -> Response[Any]:
        form = await request.form()
        try:
            kind = PolicyKind(str(form.get("kind", "")))
        except ValueError:
            raise NotFoundException("There is no such kind of policy.") from None
        draft = await policies.create_draft(kind, actor=actor)
        return redirect(request, f"/staff/policies/drafts/{draft.id}")

    async def _editor(
        self,
        request: HTMXRequest,
        policies: PolicyService,
        draft: PolicyVersion,
        state: FormState,
        *,
        status_code: int = 200,
        saved: bool = False,
    ) -> HTMXTemplate:
        current = await policies.latest(draft.kind)
        context = {
            "draft": draft,
            "form": state,
            "current": current,
            "preview": parse_cached(draft.text) if draft.text.strip() else None,
            "diff": diff_texts(current.text, draft.text) if current else None,
            "problems": PolicyService.problems(draft, current),
            "revision": revision(draft),
            "saved": saved,
        }
        return HTMXTemplate(
            template_name="policies/staff/partials/_editor.html" if request.htmx else "policies/staff/draft.html",
            context=context,
            status_code=status_code,
        )

    async def _draft(self, policies: PolicyService, draft_id: uuid.UUID, *, fresh: bool = False) -> PolicyVersion:
        draft = await policies.draft(draft_id, fresh=fresh)
        if draft is None:
            raise NotFoundException("There is no such draft (it may have been discarded).")
        return draft

    @get("/drafts/{draft_id:uuid}", name="policy-draft")
    async def edit(self, request: HTMXRequest, draft_id: FromPath[uuid.UUID], policies: Policies) -> Response[Any]:
        draft = await self._draft(policies, draft_id)
        if not draft.is_draft:  # published meanwhile: it is only readable now
            return redirect(request, f"{draft.kind.path}/v/{draft.number}")
        return await self._editor(request, policies, draft, draft_state(draft))

    # A whole policy text (up to 100,000 characters, percent-encoded) must fit.
    @post("/drafts/{draft_id:uuid}", request_max_body_size=2 * 1024 * 1024)
    async def save(
        self, request: HTMXRequest, draft_id: FromPath[uuid.UUID], actor: ActorDep, policies: Policies
    ) -> Response[Any]:
        draft = await self._draft(policies, draft_id)
        data, state = parse_form(DraftForm, await request.form())
        if data is None:
            return await self._editor(request, policies, draft, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        try:
            draft = await policies.save_draft(
                draft_id,
                text=data.text.replace("\r\n", "\n"),
                summary=data.summary,
                significant=data.significant,
                effective_on=data.effective_on,
                actor=actor,
            )
        except NotADraftError as refusal:
            flash(request, str(refusal), "warn")
            published = await policies.draft(draft_id)
            return redirect(request, f"{published.kind.path}/v/{published.number}" if published else "/staff/policies")
        if request.htmx:
            return await self._editor(request, policies, draft, draft_state(draft), saved=True)
        flash(request, "Draft saved. Check the preview and the changes below, then publish.", "ok")
        return redirect(request, f"/staff/policies/drafts/{draft_id}#preview")

    @post("/drafts/{draft_id:uuid}/publish", name="publish-draft")
    async def publish(
        self, *, request: HTMXRequest, draft_id: FromPath[uuid.UUID], actor: ActorDep, policies: Policies, state: State
    ) -> Response[Any]:
        previewed = str((await request.form()).get("previewed", ""))
        try:
            publication = await policies.publish(draft_id, previewed=previewed, actor=actor)
        except (DraftInvalidError, DraftChangedError, PublishRaceError) as refusal:
            return await self._refused(request, policies, draft_id, refusal)
        if publication is None:
            raise NotFoundException("There is no such draft (it may have been discarded).")
        state.latest_versions.forget()
        version = publication.version
        label = f"{version.kind.label} version {version.number}"
        if publication.already:
            flash(request, f"{label} was already published (the form was sent twice); nothing else changed.", "ok")
        elif publication.campaign:
            flash(request, f"{label} is published. Every user is being told by e-mail.", "ok")
        else:
            flash(request, f"{label} is published.", "ok")
        if publication.campaign:
            return redirect(request, f"/staff/campaigns/{publication.campaign.id}")
        return redirect(request, f"{version.kind.path}/v/{version.number}")

    async def _refused(
        self, request: HTMXRequest, policies: PolicyService, draft_id: uuid.UUID, refusal: RefusedError
    ) -> Response[Any]:
        """Publishing was refused: the editor again, as the draft and the published
        versions are now, with why (or the version, should the draft be published meanwhile)."""
        draft = await self._draft(policies, draft_id, fresh=True)
        if not draft.is_draft:
            return redirect(request, f"{draft.kind.path}/v/{draft.number}")
        form = draft_state(draft)
        answer = form.refuse(refusal)
        return await self._editor(request, policies, draft, form, status_code=answer["status_code"])

    @post("/drafts/{draft_id:uuid}/discard", name="discard-draft")
    async def discard(
        self, request: HTMXRequest, draft_id: FromPath[uuid.UUID], actor: ActorDep, policies: Policies
    ) -> Response[Any]:
        if await policies.discard_draft(draft_id, actor=actor):
            flash(request, "Draft discarded.", "ok")
        else:
            flash(request, "That draft was already published or discarded.", "warn")
        return redirect(request, "/staff/policies")


class CampaignController(Controller):
    """A significant change's e-mail: live progress (htmx polling; a reload without it)."""

    path = "/staff/campaigns"
    guards = [requires_role(Role.PRIVACY_OFFICER)]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    async def _context(self, policies: PolicyService, campaign_id: uuid.UUID, *, polled: bool) -> dict[str, Any]:
        report = await policies.campaign_report(campaign_id)
        if report is None:
            raise NotFoundException("There is no such campaign.")
        return {
            "campaign": report.campaign,
            "version": report.version,
            "progress": report.progress,
            "failures": report.failures,
            "polled": polled,
        }

    @get("/{campaign_id:uuid}", name="campaign")
    async def show(self, campaign_id: FromPath[uuid.UUID], policies: Policies) -> HTMXTemplate:
        context = await self._context(policies, campaign_id, polled=False)
        return HTMXTemplate(template_name="policies/staff/campaign.html", context=context)

    @get("/{campaign_id:uuid}/progress", name="campaign-progress")
    async def poll(self, request: HTMXRequest, campaign_id: FromPath[uuid.UUID], policies: Policies) -> Response[Any]:
        if not request.htmx:
            return redirect(request, f"/staff/campaigns/{campaign_id}")
        context = await self._context(policies, campaign_id, polled=True)
        return HTMXTemplate(template_name="policies/staff/partials/_progress.html", context=context)
