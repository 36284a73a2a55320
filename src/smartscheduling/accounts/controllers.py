"""Sign-up, e-mail verification, sign-in/out and password reset.

Every form is a plain ``<form method="post">`` (POST → 303 → GET) that htmx enhances:
for an htmx request the same URL answers with just the form (422 with messages) or a
client-side redirect.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from smartscheduling.accounts.countries import countries
from smartscheduling.accounts.guards import anyone, requires_login
from smartscheduling.accounts.identity import ViewerDep, VisitorDep, end_every_session, log_in, log_out
from smartscheduling.accounts.models import TokenPurpose
from smartscheduling.accounts.schemas import ForgotPasswordForm, LoginForm, ResetPasswordForm, SignupForm, is_minor
from smartscheduling.accounts.services import AccountService, LoginFailure
from smartscheduling.audit.service import ActorDep
from smartscheduling.security.passwords import password_problem
from smartscheduling.security.throttle import Limit, Throttle, TooManyAttemptsError, plural
from smartscheduling.web.forms import FormState, parse_form, render_form
from smartscheduling.web.http import back_to, client_network, local_path, redirect

# Every per-network limit counts the client's network (/24, /48), not its address.
LOGIN_PER_NETWORK = Limit("login-network", 30, timedelta(minutes=15))
#: Counts sign-in attempts for one address from networks it never signed in from: a
#: stranger can slow guessing but cannot lock the owner out of their usual networks.
LOGIN_PER_ACCOUNT = Limit("login-account", 5, timedelta(minutes=15))
SIGNUP_PER_NETWORK = Limit("signup-network", 10, timedelta(hours=1))
RESET_PER_NETWORK = Limit("reset-network", 10, timedelta(hours=1))
#: "Someone tried to create an account with your address": a few an hour, then silence.
SIGNUP_NOTICE_PER_ADDRESS = Limit("signup-notice", 3, timedelta(hours=1))
RESET_PER_ADDRESS = Limit("reset-address", 3, timedelta(hours=1))
RESEND_PER_USER = Limit("verify-resend", 3, timedelta(hours=1))

NO_MATCH = "That e-mail address and password do not match an account. Check both and try again."
SUSPENDED = "This account is suspended. Please write to us if you think this is a mistake."

Accounts = NamedDependency[AccountService]
Throttling = NamedDependency[Throttle]


def link_page(valid: object | None, *, title: str, text: str, action: str, button: str) -> HTMXTemplate:
    """The page behind an e-mailed link (``valid``: what its token found, ``None`` for a
    dead link): opening it changes nothing, its button does."""
    if valid is None:
        return link_invalid()
    context = {"title": title, "text": text, "action": action, "button": button}
    return HTMXTemplate(template_name="accounts/link_action.html", context=context)


def link_invalid() -> HTMXTemplate:
    """An e-mailed link that is unknown, expired, used or voided: one answer for all."""
    return HTMXTemplate(template_name="accounts/link_invalid.html", status_code=400)


class SignupController(Controller):
    path = "/signup"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    def _render(request: HTMXRequest, state: FormState, privacy_version: int, **kwargs: Any) -> HTMXTemplate:
        return render_form(
            request,
            "accounts/signup.html",
            "accounts/partials/_signup_form.html",
            state,
            countries=countries(),
            privacy_version=privacy_version,
            **kwargs,
        )

    @get("/", name="signup")
    async def show(
        self,
        request: HTMXRequest,
        visitor: VisitorDep,
        privacy_version: NamedDependency[int],
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Response[Any]:
        target = local_path(next_page, default="")
        if visitor:
            return redirect(request, target or "/")
        return self._render(request, FormState(values={"next": target}), privacy_version)

    @post("/")
    async def submit(
        self,
        *,
        request: HTMXRequest,
        actor: ActorDep,
        accounts: Accounts,
        throttle: Throttling,
        privacy_version: NamedDependency[int],
    ) -> Response[Any]:
        form = await request.form()
        if is_minor(form.get("date_of_birth")):
            # Nothing of what was sent is kept or echoed back: the date goes nowhere.
            return render_form(
                request, "accounts/minor_refused.html", "accounts/partials/_minor_refused.html", FormState()
            )
        data, state = parse_form(SignupForm, form)
        if data is None:
            return self._render(request, state, privacy_version, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        decision = await throttle.hit(SIGNUP_PER_NETWORK, client_network(request))
        if not decision.allowed:
            refusal = TooManyAttemptsError("sign-ups from your network", decision)
            return self._render(request, state, privacy_version, **state.refuse(refusal))
        # Counted for every sign-up (taken address or not), so the count reveals nothing.
        notify = (await throttle.hit(SIGNUP_NOTICE_PER_ADDRESS, data.email)).allowed
        await accounts.sign_up(data, actor=actor, notify_existing=notify, next_page=local_path(data.next, default=""))
        return redirect(request, "/signup/sent")

    @get("/sent", sync_to_thread=False)
    def sent(self) -> HTMXTemplate:
        return HTMXTemplate(template_name="accounts/signup_sent.html")


class VerifyEmailController(Controller):
    path = "/verify-email"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/{token:str}")
    async def show(
        self,
        token: FromPath[str],
        accounts: Accounts,
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> HTMXTemplate:
        target = local_path(next_page, default="")
        return link_page(
            await accounts.valid_token(token, TokenPurpose.VERIFY_EMAIL),
            title="Confirm your e-mail address",
            text="One click and your address is confirmed.",
            action=f"/verify-email/{token}" + (f"?{urlencode({'next': target})}" if target else ""),
            button="Confirm my address",
        )

    @post("/{token:str}")
    async def confirm(
        self,
        *,
        request: HTMXRequest,
        token: FromPath[str],
        visitor: VisitorDep,
        actor: ActorDep,
        accounts: Accounts,
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Response[Any]:
        """Confirm, then go on where the sign-up started (a booking, say): signed in
        already, straight there; else by the sign-in page."""
        user = await accounts.verify_email(token, actor=actor)
        if user is None:
            return link_invalid()
        flash(request, "Thank you: your e-mail address is confirmed.", category="ok")
        target = local_path(next_page, default="")
        if visitor and visitor.id == user.id:
            return redirect(request, target or "/")
        return redirect(request, "/login" + (f"?{urlencode({'next': target})}" if target else ""))

    @post("/resend", name="resend-verification", guards=[requires_login])
    async def resend(
        self, *, request: HTMXRequest, viewer: ViewerDep, actor: ActorDep, accounts: Accounts, throttle: Throttling
    ) -> Response[Any]:
        decision = await throttle.hit(RESEND_PER_USER, str(viewer.id))
        if decision.allowed:
            await accounts.resend_verification(viewer.id, actor=actor)
            # Flash messages live in the session store: no personal data in them.
            flash(request, "We sent a new link to your e-mail address. It works for 24 hours.", category="ok")
        else:
            flash(
                request,
                f"We sent several links already. Please wait {plural(decision.retry_after_minutes, 'minute')}.",
                "warn",
            )
        return redirect(request, back_to(request))


class AuthController(Controller):
    path = "/"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @staticmethod
    def _render(request: HTMXRequest, state: FormState, **kwargs: Any) -> HTMXTemplate:
        return render_form(request, "accounts/login.html", "accounts/partials/_login_form.html", state, **kwargs)

    @get("/login", name="login")
    async def show(
        self,
        request: HTMXRequest,
        visitor: VisitorDep,
        next_page: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Response[Any]:
        target = local_path(next_page)
        if visitor:
            return redirect(request, target)
        return self._render(request, FormState(values={"next": target}))

    @post("/login")
    async def submit(
        self,
        *,
        request: HTMXRequest,
        actor: ActorDep,
        browser_id: NamedDependency[str | None],
        accounts: Accounts,
        throttle: Throttling,
    ) -> Response[Any]:
        network = client_network(request)
        by_network = await throttle.hit(LOGIN_PER_NETWORK, network)
        data, state = parse_form(LoginForm, await request.form())
        decision = by_network
        # From a network this address has signed in from before, only the network's limit
        # applies; from anywhere else the address's too. Counted the same whether or not an
        # account has the address (one query either way), so the answer reveals nothing.
        if data is not None and decision.allowed and not await accounts.has_signed_in_from(data.email, network):
            decision = await throttle.hit(LOGIN_PER_ACCOUNT, data.email)
        if decision.allowed and data is None:
            return self._render(request, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        if not decision.allowed or data is None:
            return self._render(request, state, **state.refuse(TooManyAttemptsError("sign-in attempts", decision)))
        result = await accounts.authenticate(data.email, data.password, actor=actor, browser_id=browser_id)
        if result.user is None:
            state.errors["__all__"] = SUSPENDED if result.failure is LoginFailure.SUSPENDED else NO_MATCH
            return self._render(request, state, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        await throttle.reset(LOGIN_PER_ACCOUNT, data.email)
        log_in(request, result.user)
        return redirect(request, local_path(data.next))

    @post("/logout", name="logout")
    async def logout(self, request: Request[Any, Any, Any], actor: ActorDep, accounts: Accounts) -> Response[Any]:
        if actor.id is not None:
            await accounts.log_out(actor=actor)
        log_out(request)
        return redirect(request, "/")  # type: ignore[arg-type]


class PasswordController(Controller):
    path = "/password"
    guards = [anyone]  # noqa: RUF012 (Litestar's declaration style)
    include_in_schema = False

    @get("/forgot", name="forgot-password")
    async def forgot(self, request: HTMXRequest) -> HTMXTemplate:
        return render_form(request, "accounts/forgot.html", "accounts/partials/_forgot_form.html", FormState())

    @post("/forgot")
    async def send_link(
        self, request: HTMXRequest, actor: ActorDep, accounts: Accounts, throttle: Throttling
    ) -> Response[Any]:
        data, state = parse_form(ForgotPasswordForm, await request.form())
        if data is None:
            return render_form(
                request, "accounts/forgot.html", "accounts/partials/_forgot_form.html", state,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )  # fmt: skip
        by_ip = await throttle.hit(RESET_PER_NETWORK, client_network(request))
        if not by_ip.allowed:
            answer = state.refuse(TooManyAttemptsError("reset requests from your network", by_ip))
            return render_form(request, "accounts/forgot.html", "accounts/partials/_forgot_form.html", state, **answer)
        # Past a few links an hour for one address, the page says the same and sends nothing.
        if (await throttle.hit(RESET_PER_ADDRESS, data.email)).allowed:
            await accounts.request_password_reset(data.email, actor=actor)
        return redirect(request, "/password/forgot/sent")

    @get("/forgot/sent", sync_to_thread=False)
    def sent(self) -> HTMXTemplate:
        return HTMXTemplate(template_name="accounts/forgot_sent.html")

    @get("/reset/{token:str}", name="reset-password")
    async def show_reset(self, request: HTMXRequest, token: FromPath[str], accounts: Accounts) -> HTMXTemplate:
        if await accounts.user_for_token(token, TokenPurpose.RESET_PASSWORD) is None:
            return link_invalid()
        return render_form(
            request, "accounts/reset.html", "accounts/partials/_reset_form.html", FormState(), token=token
        )

    @post("/reset/{token:str}")
    async def reset(
        self, *, request: HTMXRequest, token: FromPath[str], actor: ActorDep, accounts: Accounts, throttle: Throttling
    ) -> Response[Any]:
        user = await accounts.user_for_token(token, TokenPurpose.RESET_PASSWORD)
        if user is None:
            return link_invalid()
        data, state = parse_form(ResetPasswordForm, await request.form())
        if data is not None and (problem := password_problem(data.password, user.email)):
            state.errors["password"] = problem
        if data is None or state.errors:
            return render_form(
                request, "accounts/reset.html", "accounts/partials/_reset_form.html", state,
                status_code=HTTP_422_UNPROCESSABLE_ENTITY, token=token,
            )  # fmt: skip
        if await accounts.reset_password(token, data.password, actor=actor) is None:
            return link_invalid()
        await end_every_session(request, user.id)
        await throttle.reset(LOGIN_PER_ACCOUNT, user.email)  # whoever locked the address out is locked out now
        log_out(request)
        flash(request, "Your password is changed and every session is signed out. Sign in with the new password.", "ok")
        return redirect(request, "/login")
