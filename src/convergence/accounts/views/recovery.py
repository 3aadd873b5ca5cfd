"""Recovery pages: forgotten password (e-mail link or SMS code), forgotten login, and a
référent numérique or the DSI resetting a pupil's password.

The request pages answer with the same page whether or not the account exists. A reset link's
token moves from the URL into the session at once (then the page is reloaded without it), so
it cannot leak through the Referer header or the history; the SMS path ends on the same
"new password" step. No page here signs anyone in.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from convergence.accounts import actions
from convergence.accounts.actions import recovery
from convergence.accounts.errors import RECOVERY_LINK_INVALID, RECOVERY_THROTTLED
from convergence.accounts.forms.recovery import (
    ForgotLoginForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    SmsCodeForm,
)
from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import User
from convergence.accounts.passwords import policy_for
from convergence.accounts.permissions import get_managed_account_or_404, manager_required
from convergence.core import errors
from convergence.core.views import render_error

SMS_SESSION_KEY = "convergence_reset_sms"
TOKEN_SESSION_KEY = "convergence_reset_token"  # noqa: S105 (a session key's name)


def _posted(request: HttpRequest) -> QueryDict | None:
    """The posted data, so that an empty POST is judged (and refused) rather than ignored."""
    return request.POST if request.method == "POST" else None


def _too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render_error(request, RECOVERY_THROTTLED, retry_after=retry_after)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _link_no_longer_valid(request: HttpRequest) -> HttpResponse:
    errors.remember(request, RECOVERY_LINK_INVALID.code)
    return render(
        request,
        "account/password_reset_from_key.html",
        {"token_fail": True, "error_code": RECOVERY_LINK_INVALID},
        status=RECOVERY_LINK_INVALID.status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link or SMS code; the next page is the same whoever was typed."""
    form = PasswordResetRequestForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.request_password_reset(
                identifier=form.cleaned_data["identifier"],
                channel=form.cleaned_data["channel"],
                request=request,
            )
        except recovery.RecoveryThrottled as throttled:
            return _too_many(request, throttled.retry_after)
        if result.channel == recovery.Channel.SMS:
            request.session[SMS_SESSION_KEY] = {"user": result.user_pk}
            return redirect("accounts:password_reset_code")
        return redirect("account_reset_password_done")
    status = 400 if form.is_bound else 200
    return render(request, "account/password_reset.html", {"form": form}, status=status)


@require_GET
def password_reset_done(request: HttpRequest) -> HttpResponse:
    return render(
        request, "account/password_reset_done.html", {"minutes": recovery.reset_minutes()}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_code(request: HttpRequest) -> HttpResponse:
    """Type the SMS code; a right one leads to the new-password step."""
    pending = request.session.get(SMS_SESSION_KEY)
    if not isinstance(pending, dict):
        return redirect("account_reset_password")
    form = SmsCodeForm(_posted(request))
    error_code = None
    if request.method == "POST" and form.is_valid():
        try:
            token = actions.exchange_sms_code(
                user_pk=pending.get("user"), code=form.cleaned_data["code"], request=request
            )
        except recovery.RecoveryThrottled as throttled:
            return _too_many(request, throttled.retry_after)
        if token is not None:
            del request.session[SMS_SESSION_KEY]
            request.session[TOKEN_SESSION_KEY] = token
            return redirect("accounts:password_reset_new")
        form.add_error(
            "code",
            _(
                "Ce code n'est pas valable : il est erroné, a expiré ou a déjà servi. "
                "Après cinq erreurs, le code ne fonctionne plus : demandez-en un nouveau."
            ),
        )
        error_code = RECOVERY_LINK_INVALID
        errors.remember(request, error_code.code)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "accounts/recovery/sms_code.html",
        {"form": form, "minutes": recovery.reset_minutes(), "error_code": error_code},
        status=status,
    )


@never_cache
@require_GET
def password_reset_from_key(request: HttpRequest, key: str) -> HttpResponse:
    """The link in the e-mail: keep its token in the session, then drop it from the URL.

    Opening the link does not use it up (mail scanners open links too); choosing the new
    password does.
    """
    request.session[TOKEN_SESSION_KEY] = key
    return redirect("accounts:password_reset_new")


def pending_reset_user(request: HttpRequest) -> User | None:
    """The account whose password is being reset in this browser, if any (for the meter)."""
    token = request.session.get(TOKEN_SESSION_KEY)
    return recovery.account_for_reset_token(token) if isinstance(token, str) else None


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_new(request: HttpRequest) -> HttpResponse:
    """Choose the new password (policy and strength meter); the person is not signed in."""
    token = request.session.get(TOKEN_SESSION_KEY)
    user = recovery.account_for_reset_token(token) if isinstance(token, str) else None
    if user is None or not isinstance(token, str):
        request.session.pop(TOKEN_SESSION_KEY, None)
        return _link_no_longer_valid(request)
    form = NewPasswordForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        done = actions.reset_password(
            token=token, password=form.cleaned_data["password1"], request=request
        )
        request.session.pop(TOKEN_SESSION_KEY, None)
        if done is None:
            return _link_no_longer_valid(request)
        return redirect("account_reset_password_from_key_done")
    return render(
        request,
        "account/password_reset_from_key.html",
        {
            "form": form,
            "login": user.login,
            "password_policy_help": policy_for(user).description,
        },
        status=400 if form.is_bound else 200,
    )


@require_GET
def password_reset_complete(request: HttpRequest) -> HttpResponse:
    return render(request, "account/password_reset_from_key_done.html")


@never_cache
@require_http_methods(["GET", "POST"])
def forgot_login(request: HttpRequest) -> HttpResponse:
    """Ask for one's login by e-mail; the next page is the same whoever was typed."""
    form = ForgotLoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.send_login_reminder(email=form.cleaned_data["email"], request=request)
        except recovery.RecoveryThrottled as throttled:
            return _too_many(request, throttled.retry_after)
        return redirect("accounts:forgot_login_done")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/recovery/forgot_login.html", {"form": form}, status=status)


@require_GET
def forgot_login_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/recovery/forgot_login_done.html")


@never_cache
@manager_required
@require_http_methods(["GET", "POST"])
def manage_reset_password(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A référent (their establishments' pupils) or the DSI gives a temporary password.

    404 for an account outside the actor's delegation. The password is shown once, on this
    response only (never stored, never cached); the guardians are told by e-mail.
    """
    actor = request.user
    account = get_managed_account_or_404(actor, pk)
    context: dict[str, object] = {"account": account}
    if request.method == "POST":
        try:
            password = actions.reset_password_by_referent(
                acting_user=actor, user=account, request=request
            )
        except recovery.RecoveryError as error:
            context["error"] = str(error)
            return render(
                request, "accounts/recovery/manage_reset_confirm.html", context, status=409
            )
        context["password"] = password
        context["guardians_told"] = account.guardians.exists()
        return render(request, "accounts/recovery/manage_reset_done.html", context)
    return render(request, "accounts/recovery/manage_reset_confirm.html", context)
