"""The Profile section: every personal field editable in place, "Your data", the export
and closing the account.

Each row's "Edit" is a link to ``/profile/edit/<field>``: without JavaScript a page with
the form (POST → 303 → ``/profile``); with htmx the same URL returns just the form,
swapped into the row, and saving returns the row again (or the form, 422 with messages,
409 when the profile changed meanwhile).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Stream
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.ext.asyncio import AsyncEngine

from smartscheduling.accounts.controllers import link_invalid, link_page
from smartscheduling.accounts.countries import countries
from smartscheduling.accounts.guards import anyone, requires_login
from smartscheduling.accounts.identity import Viewer, ViewerDep, VisitorDep, end_every_session, log_in, log_out
from smartscheduling.accounts.models import TokenPurpose, User
from smartscheduling.audit.service import Actor, ActorDep, describe
from smartscheduling.clock import Now
from smartscheduling.personal_data import Erasure
from smartscheduling.profile.choices import LANGUAGES
from smartscheduling.profile.fields import COMMUNICATION, FIELDS, Invalid, ProfileField, needs_transfer_ack
from smartscheduling.profile.schemas import CloseAccountForm, EmailChangeForm, PasswordChangeForm
from smartscheduling.profile.services import ProfileService, StaleProfileError
from smartscheduling.refusals import FORM, RefusedError
from smartscheduling.security.passwords import password_problem
from smartscheduling.security.throttle import Limit, Throttle, TooManyAttemptsError
from smartscheduling.web.choices import time_zones
from smartscheduling.web.forms import FormState, parse_form, render_form
from smartscheduling.web.http import flash_at, redirect

T = TypeVar("T")
Profile = NamedDependency[ProfileService]
Throttling = NamedDependency[Throttle]
Engine = NamedDependency[AsyncEngine]
#: Confirming a change with the current password: no more guesses than at sign-in.
REAUTHENTICATE = Limit("reauth", 5, timedelta(minutes=15))


@dataclass(frozen=True, slots=True)
class Change:
    """What saving the e-mail address or the password works with."""

    request: HTMXRequest
    field: ProfileField
    viewer: Viewer
    actor: Actor
    profile: ProfileService
    throttle: Throttle


def field_for(key: str) -> ProfileField:
    if (field := FIELDS.get(key)) is None:
        raise NotFoundException("There is no such part of the profile.")
    return field


class ProfileController(Controller):
    path = "/profile"
    guards = [requires_login]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    # --- rendering ---------------------------------------------------------------------

    @staticmethod
    def _form(
        request: HTMXRequest, field: ProfileField, state: FormState, user: User, *, status_code: int = 200, **extra: Any
    ) -> HTMXTemplate:
        context = {
            "field": field,
            "user": user,
            "countries": countries(),
            "time_zones": time_zones(),
            "languages": LANGUAGES,
            "communication": COMMUNICATION,
            **extra,
        }
        return render_form(
            request, "profile/edit.html", "profile/partials/_form.html", state, status_code=status_code, **context
        )

    @staticmethod
    def _saved(request: HTMXRequest, field: ProfileField, user: User, message: str) -> Response[Any]:
        """htmx: the row again, with the message; without JavaScript: back to the page."""
        if request.htmx:
            return HTMXTemplate(
                template_name="profile/partials/_row.html",
                context={"field": field, "user": user, "message": message, "focus": True},
            )
        flash_at(request, message, target=f"row-{field.key}")
        return redirect(request, f"/profile#row-{field.key}")

    # --- the page and its rows -----------------------------------------------------------

    @get("/", name="profile")
    async def page(self, viewer: ViewerDep, profile: Profile) -> HTMXTemplate:
        user = viewer.user
        pending = await profile.pending_email_change(user.id)
        context = {
            "user": user, "fields": FIELDS.values(), "pending_email": pending,
            "records": await profile.records_like(user),
        }  # fmt: skip
        return HTMXTemplate(template_name="profile/page.html", context=context)

    @post("/records/{record_id:uuid}/join", name="join-record")
    async def join_record(
        self, request: HTMXRequest, record_id: FromPath[uuid.UUID], viewer: ViewerDep, actor: ActorDep, profile: Profile
    ) -> Response[Any]:
        """ "That is me": the business's record of the person joins their account."""
        if not await profile.join_record(viewer.user, record_id, actor=actor):
            raise NotFoundException("There is no such record to join.")
        flash(request, "Joined: your appointments and history with the business are now part of your account.", "ok")
        return redirect(request, "/profile")

    @post("/records/{record_id:uuid}/decline", name="decline-record")
    async def decline_record(
        self, request: HTMXRequest, record_id: FromPath[uuid.UUID], viewer: ViewerDep, actor: ActorDep, profile: Profile
    ) -> Response[Any]:
        await profile.decline_record(viewer.user, record_id, actor=actor)
        flash(request, "Understood: that record stays the business's and is not offered to you again.", "ok")
        return redirect(request, "/profile")

    @get("/edit/{key:str}", name="profile-edit")
    async def edit(self, request: HTMXRequest, key: FromPath[str], viewer: ViewerDep, profile: Profile) -> HTMXTemplate:
        field = field_for(key)
        user = viewer.user
        state = FormState(values={**field.initial(user), "version": str(user.profile_version)})
        needs_ack = key == "country" and not await profile.has_acknowledged_us_transfer(user.id)
        return self._form(request, field, state, user, needs_ack=needs_ack)

    @get("/row/{key:str}", name="profile-row")
    async def row(self, request: HTMXRequest, key: FromPath[str], viewer: ViewerDep) -> Response[Any]:
        """Cancel: the row as it is (htmx); without JavaScript, back to the page."""
        field = field_for(key)
        if not request.htmx:
            return redirect(request, f"/profile#row-{key}")
        context = {"field": field, "user": viewer.user, "focus": True}
        return HTMXTemplate(template_name="profile/partials/_row.html", context=context)

    @post("/email/cancel", name="cancel-email-change")
    async def cancel_email_change(
        self, request: HTMXRequest, viewer: ViewerDep, actor: ActorDep, profile: Profile
    ) -> Response[Any]:
        """Stop a pending change of address (the notice on the profile page)."""
        if await profile.cancel_email_change(viewer.id, actor=actor):
            stopped = "The change of address is stopped: the link sent to the new address no longer works."
            flash_at(request, stopped, target="row-email")
        return redirect(request, "/profile#row-email")

    @post("/edit/{key:str}")
    async def save(
        self,
        *,
        request: HTMXRequest,
        key: FromPath[str],
        viewer: ViewerDep,
        actor: ActorDep,
        profile: Profile,
        throttle: Throttling,
    ) -> Response[Any]:
        field = field_for(key)
        change = Change(request, field, viewer, actor, profile, throttle)
        if key == "email":
            return await self._change_email(change)
        if key == "password":
            return await self._change_password(change)
        user = viewer.user
        data, state = parse_form(field.schema, await request.form())
        changes: dict[str, Any] = {}
        if data is not None and field.changes is not None:
            try:
                changes = field.changes(data, user)
            except Invalid as problem:
                state.errors.update(problem.errors)
        needs_ack = key == "country" and not await profile.has_acknowledged_us_transfer(user.id)
        if needs_ack and data is not None and needs_transfer_ack(data.country) and not data.transfer_ack:
            state.errors["transfer_ack"] = "Please confirm you understand that your data is stored in the U.S."
        if "date_of_birth" in state.errors:
            state.values["date_of_birth"] = ""  # a refused date is not even sent back
        if data is None or state.errors:
            status = HTTP_422_UNPROCESSABLE_ENTITY
            return self._form(request, field, state, user, status_code=status, needs_ack=needs_ack)
        changes = {column: value for column, value in changes.items() if getattr(user, column) != value}
        if not changes:
            return self._saved(request, field, user, f"{field.label}: unchanged.")
        try:
            saved = await profile.update(
                user,
                version=data.version,
                changes=changes,
                actor=actor,
                acknowledge_us_transfer=needs_ack and needs_transfer_ack(data.country),
            )
        except StaleProfileError as stale:
            answer = state.refuse(stale)
            current = field.show(stale.current) or "not given"
            state.errors[FORM] = (
                f"{field.label} was changed elsewhere after you opened this form (on another device?). "
                f"It is now: {current}. Your input is still below: save again to replace it, or cancel to keep it."
            )
            state.values["version"] = str(stale.current.profile_version)
            return self._form(request, field, state, stale.current, **answer, needs_ack=needs_ack)
        return self._saved(request, field, saved, f"{field.label}: saved.")

    @staticmethod
    async def _with_password(throttle: Throttle, me: Viewer, change: Callable[[], Awaitable[T]]) -> T:
        """Run ``change``, which confirms the current password first (``WrongPasswordError``):
        no more guesses than at sign-in (``TooManyAttemptsError`` beyond)."""
        decision = await throttle.hit(REAUTHENTICATE, str(me.id))
        if not decision.allowed:
            raise TooManyAttemptsError("password attempts", decision)
        done = await change()
        await throttle.reset(REAUTHENTICATE, str(me.id))
        return done

    async def _change_email(self, change: Change) -> Response[Any]:
        request, field, me = change.request, change.field, change.viewer
        profile, throttle = change.profile, change.throttle
        user = me.user
        data, state = parse_form(EmailChangeForm, await request.form())
        if data is not None and data.email == user.email:
            state.errors["email"] = "That is already your address."
        if data is None or state.errors:
            return self._form(request, field, state, user, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        email, password = data.email, data.current_password
        try:
            await self._with_password(
                throttle, me, lambda: profile.request_email_change(user, email, password, actor=change.actor)
            )
        except RefusedError as refusal:
            return self._form(request, field, state, user, **state.refuse(refusal))
        message = (
            f"We sent a link to {data.email}. Your address changes when you open it; until then it stays {user.email}."
        )
        return self._saved(request, field, user, message)

    async def _change_password(self, change: Change) -> Response[Any]:
        request, field, me = change.request, change.field, change.viewer
        profile, throttle = change.profile, change.throttle
        user = me.user
        data, state = parse_form(PasswordChangeForm, await request.form())
        if data is not None and (problem := password_problem(data.new_password, user.email)):
            state.errors["new_password"] = problem
        if data is None or state.errors:
            return self._form(request, field, state, user, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        current, new = data.current_password, data.new_password
        try:
            await self._with_password(
                throttle, me, lambda: profile.change_password(user, current, new, actor=change.actor)
            )
        except RefusedError as refusal:
            return self._form(request, field, state, user, **state.refuse(refusal))
        await end_every_session(request, me.id)
        log_in(request, user)  # this device stays signed in, under a new session id
        return self._saved(request, field, user, "Password changed. Every other device is now signed out.")

    # --- "Your data", export, closing ------------------------------------------------------

    @get("/data", name="your-data")
    async def data(self, viewer: ViewerDep, profile: Profile) -> HTMXTemplate:
        dashboard = await profile.dashboard(viewer.user)
        context = {"dashboard": dashboard, "Erasure": Erasure, "describe": describe}
        return HTMXTemplate(template_name="profile/data.html", context=context)

    @post("/export", name="export")
    async def export(self, viewer: ViewerDep, actor: ActorDep, profile: Profile, db_engine: Engine) -> Stream:
        await profile.record_export(viewer.user, actor=actor)
        today = datetime.datetime.now(datetime.UTC).date().isoformat()
        return Stream(
            profile.archive(db_engine, viewer.user),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="smartscheduling-my-data-{today}.zip"',
                "Cache-Control": "no-store",
            },
            status_code=200,
        )

    @get("/close", name="close-account")
    async def close_page(self, request: HTMXRequest) -> HTMXTemplate:
        return render_form(request, "profile/close.html", "profile/partials/_close_form.html", FormState())

    @post("/close")
    async def close(
        self,
        *,
        request: HTMXRequest,
        viewer: ViewerDep,
        actor: ActorDep,
        profile: Profile,
        throttle: Throttling,
        now: Now,
    ) -> Response[Any]:
        me = viewer
        data, state = parse_form(CloseAccountForm, await request.form())
        page = ("profile/close.html", "profile/partials/_close_form.html")
        if data is None:
            return render_form(request, *page, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        password = data.current_password
        try:
            await self._with_password(
                throttle, me, lambda: profile.close_account(me.user, password, now=now, actor=actor)
            )
        except RefusedError as refusal:
            return render_form(request, *page, state, **state.refuse(refusal))
        await end_every_session(request, me.id)
        log_out(request)
        flash(request, "Your account is closed and your data erased. We sent a confirmation by e-mail.", "ok")
        return redirect(request, "/")


class EmailChangeController(Controller):
    """The links about a change of address; they work without being signed in: the
    confirmation sent to the new address, and the cancellation sent to the old one."""

    path = "/profile/email"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/confirm/{token:str}")
    async def show(self, token: FromPath[str], profile: Profile) -> HTMXTemplate:
        return link_page(
            await profile.valid_token(token, TokenPurpose.CHANGE_EMAIL),
            title="Confirm your new e-mail address",
            text="One click, and we use this address from now on.",
            action=f"/profile/email/confirm/{token}",
            button="Use my new address",
        )

    @post("/confirm/{token:str}")
    async def confirm(
        self, request: HTMXRequest, token: FromPath[str], visitor: VisitorDep, actor: ActorDep, profile: Profile
    ) -> Response[Any]:
        user = await profile.confirm_email_change(token, actor=actor)
        if user is None:
            return link_invalid()
        flash(request, "Your new e-mail address is confirmed and in use.", "ok")
        return redirect(request, "/profile#row-email" if visitor and visitor.id == user.id else "/login")

    @get("/cancel/{token:str}")
    async def show_cancel(self, token: FromPath[str], profile: Profile) -> HTMXTemplate:
        return link_page(
            await profile.valid_token(token, TokenPurpose.CANCEL_EMAIL_CHANGE),
            title="Stop the change of your e-mail address",
            text="Your account keeps this address, and the link sent to the new address stops working.",
            action=f"/profile/email/cancel/{token}",
            button="Keep my address",
        )

    @post("/cancel/{token:str}")
    async def cancel(
        self, request: HTMXRequest, token: FromPath[str], visitor: VisitorDep, actor: ActorDep, profile: Profile
    ) -> Response[Any]:
        if not await profile.cancel_email_change_by_link(token, actor=actor):
            return link_invalid()
        flash(
            request,
            "The change is stopped: your account keeps this address. If you did not ask for it, "
            "change your password too.",
            "ok",
        )
        return redirect(request, "/profile#row-email" if visitor else "/password/forgot")
