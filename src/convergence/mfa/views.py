"""Second-factor pages: "Sécurité du compte", recovery codes, the lost-factor procedure.

TOTP, passkeys, the sign-in stage and reauthentication are allauth's views with our templates
(templates/mfa/**). The recovery-code pages are ours because our codes are stored hashed
(mfa.py): allauth's would show them again from a seed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from allauth.account.decorators import reauthentication_required
from allauth.mfa.base import views as allauth_base_views
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.forms import GenerateRecoveryCodesForm
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import User
from convergence.accounts.permissions import (
    OutsideDelegation,
    dsi_required,
    get_managed_account_or_404,
    manager_required,
)
from convergence.audit.actions import record_refusal
from convergence.core import ratelimit
from convergence.mfa import actions
from convergence.mfa.actions import confirmed_recovery_email, is_protected
from convergence.mfa.forms import (
    IDENTITY_CHECKS,
    ResetDecisionForm,
    ResetSecondFactorsForm,
    SecondFactorResetCodeForm,
)
from convergence.mfa.models import ResetRequestState, SecondFactorResetRequest
from convergence.mfa.seams import HashedRecoveryCodes, pop_fresh_codes

# Wrong birth dates an operator may type for one account before the check is closed for an
# hour: the year alone is shown, and 365 guesses must not be within reach.
BIRTH_DATE_MISSES = 5
BIRTH_DATE_WINDOW_SECONDS = 3600
LOCKED_MESSAGE = gettext_lazy(
    "Trop de dates de naissance erronées pour ce compte : rien n'est vérifié pendant une heure."
)


class SecurityIndexView(allauth_base_views.IndexView):  # type: ignore[misc]
    """allauth's index ("Sécurité du compte") with the recovery codes counted, not shown."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        recovery = context["authenticators"].get(Authenticator.Type.RECOVERY_CODES)
        context["recovery_codes"] = recovery if isinstance(recovery, HashedRecoveryCodes) else None
        return context


security_index = SecurityIndexView.as_view()


def _recovery_codes_of(user: Any) -> HashedRecoveryCodes | None:
    authenticator = Authenticator.objects.filter(
        user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES
    ).first()
    wrapper = authenticator.wrap() if authenticator is not None else None
    return wrapper if isinstance(wrapper, HashedRecoveryCodes) else None


@never_cache
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """The codes just generated, shown this once; afterwards only how many remain."""
    wrapper = _recovery_codes_of(request.user)
    fresh = pop_fresh_codes(request, wrapper.instance) if wrapper is not None else []
    context: dict[str, Any] = {"recovery_codes": wrapper, "fresh_codes": fresh}
    if fresh:
        text = render_to_string(
            "mfa/recovery_codes/download.txt", {"codes": fresh, "user": request.user}
        )
        context["download_href"] = "data:text/plain;charset=utf-8," + quote(text)
    return render(request, "mfa/recovery_codes/index.html", context)


@never_cache
@login_required
@reauthentication_required(app="allauth.mfa")  # type: ignore[untyped-decorator]
@require_http_methods(["GET", "POST"])
def generate_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New codes replace the old ones (after a confirmation and a recent authentication)."""
    posted = request.POST if request.method == "POST" else None
    form = GenerateRecoveryCodesForm(posted, user=request.user)
    if request.method == "POST" and form.is_valid():
        actions.regenerate_recovery_codes(request=request)
        return redirect("mfa_view_recovery_codes")
    status = 400 if form.errors else 200
    wrapper = _recovery_codes_of(request.user)
    return render(
        request,
        "mfa/recovery_codes/generate.html",
        {"form": form, "recovery_codes": wrapper},
        status=status,
    )


def _misses_counter(actor: User, account: User) -> str:
    return ratelimit.key("mfa-reset-birth-date", actor.pk, account.pk)


def _identity_form(
    request: HttpRequest, actor: User, account: User
) -> tuple[ResetSecondFactorsForm, int]:
    """The identity form, validated when posted, and the status its answer would have.

    A posted date takes its place among the operator's misses on this account *before* it is
    compared (so parallel posts cannot try more than ``BIRTH_DATE_MISSES`` dates); past them
    nothing is compared (429, the page says so: ``LOCKED_MESSAGE``). A wrong date keeps its
    place and is audited; any other outcome gives it back. An unreachable limiter is a 503.
    """
    if request.method != "POST":
        return ResetSecondFactorsForm(None, account=account), 200
    counter = _misses_counter(actor, account)
    if ratelimit.hit(counter, limit=BIRTH_DATE_MISSES, window=BIRTH_DATE_WINDOW_SECONDS):
        return ResetSecondFactorsForm(None, account=account), 429
    form = ResetSecondFactorsForm(request.POST, account=account)
    if form.is_valid():
        ratelimit.release(counter)
        return form, 200
    if form.has_error("birth_date", code="mismatch"):
        record_refusal(
            kind="mfa_reset_wrong_birth_date", request=request, actor=actor, target=account.pk
        )
    else:
        ratelimit.release(counter)
    return form, 400


def _factors_of(account: User) -> list[str]:
    return sorted(
        Authenticator.objects.filter(user=account).values_list("type", flat=True).distinct()
    )


@never_cache
@manager_required
@require_http_methods(["GET", "POST"])
def manage_reset_mfa(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A référent (their pupils and parents) or the DSI (anyone) removes a lost second factor.

    404 outside the actor's delegation. For an ordinary account the identity check is the
    form: what was checked, and the birth date the person gives, compared with the account's
    (never shown in full to operators). A protected account goes to :func:`_protected_reset`.
    """
    actor = request.user
    account = get_managed_account_or_404(actor, pk)
    if is_protected(account):
        return _protected_reset(request, actor, account)
    form, status = _identity_form(request, actor, account)
    if request.method == "POST" and status == 200:
        removed = actions.reset_second_factors(
            acting_user=actor,
            user=account,
            checks=form.cleaned_data["checks"],
            request=request,
        )
        return render(request, "mfa/manage/done.html", {"account": account, "removed": removed})
    return render(
        request,
        "mfa/manage/confirm.html",
        {
            "account": account,
            "form": form,
            "factors": _factors_of(account),
            "identity_checks": IDENTITY_CHECKS,
            "locked_message": LOCKED_MESSAGE if status == 429 else "",
        },
        status=status,
    )


def _protected_reset(request: HttpRequest, actor: User, account: User) -> HttpResponse:
    """A protected account: ask a second DSI (four-eyes), or send a code to the person's
    confirmed address and type it in. ``step`` says which form was posted."""
    step = request.POST.get("step", "") if request.method == "POST" else ""
    form = ResetSecondFactorsForm(None, account=account)
    code_form = SecondFactorResetCodeForm(request.POST if step == "code" else None)
    code_error = ""
    status = 200
    if step == "request":
        form, status = _identity_form(request, actor, account)
        if status == 200:
            try:
                reset_request = actions.request_second_factor_reset(
                    acting_user=actor,
                    user=account,
                    checks=form.cleaned_data["checks"],
                    request=request,
                )
            except actions.SecondFactorResetError as failure:
                form.add_error(None, failure.message)
                status = 409
            else:
                return redirect("second_factor:reset_request", pk=reset_request.pk)
    elif step == "send_code":
        try:
            actions.send_second_factor_reset_code(acting_user=actor, user=account, request=request)
        except actions.SecondFactorResetError as failure:
            code_error = failure.message
            status = 409
        else:
            messages.success(
                request,
                _(
                    "Un code a été envoyé à l'adresse de secours confirmée de la personne : "
                    "saisissez-le quand elle vous le communique."
                ),
            )
            return redirect("second_factor:manage_reset", pk=account.pk)
    elif step == "code":
        status = 400
        if code_form.is_valid():
            try:
                removed = actions.reset_second_factors_with_code(
                    acting_user=actor,
                    user=account,
                    code=code_form.cleaned_data["code"],
                    request=request,
                )
            except actions.SecondFactorResetError as failure:
                code_form.add_error("code", failure.message)
            else:
                return render(
                    request,
                    "mfa/manage/done.html",
                    {"account": account, "removed": removed},
                )
    elif request.method == "POST":
        status = 400
    pending = SecondFactorResetRequest.objects.open().filter(user=account).first()
    return render(
        request,
        "mfa/manage/confirm_protected.html",
        {
            "account": account,
            "form": form,
            "code_form": code_form,
            "factors": _factors_of(account),
            "identity_checks": IDENTITY_CHECKS,
            "pending": pending,
            "locked_message": LOCKED_MESSAGE if status == 429 else "",
            "has_confirmed_contact": bool(confirmed_recovery_email(account)),
            "code_error": code_error,
        },
        status=status,
    )


@never_cache
@dsi_required
def manage_mfa_reset_requests(request: HttpRequest) -> HttpResponse:
    """Four-eyes requests waiting for a second DSI, then the last ones decided."""
    requests = SecondFactorResetRequest.objects.select_related("user", "requested_by", "decided_by")
    return render(
        request,
        "mfa/manage/requests.html",
        {
            "open_requests": requests.open().order_by("created_at"),
            "closed_requests": requests.exclude(state=ResetRequestState.PENDING).order_by(
                "-decided_at"
            )[:20],
        },
    )


@never_cache
@dsi_required
@require_http_methods(["GET", "POST"])
def manage_mfa_reset_request(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One four-eyes request: a DSI other than its author approves it (the factors are
    removed) or refuses it; its author may only withdraw it (refuse)."""
    actor = request.user
    reset_request = (
        SecondFactorResetRequest.objects.select_related("user", "requested_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if reset_request is None:
        raise OutsideDelegation(kind="mfa_reset_request", target=pk)
    form = ResetDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == "approve":
                    removed = actions.approve_second_factor_reset(
                        acting_user=actor, reset_request=reset_request, request=request
                    )
                    return render(
                        request,
                        "mfa/manage/done.html",
                        {"account": reset_request.user, "removed": removed},
                    )
                actions.refuse_second_factor_reset(
                    acting_user=actor, reset_request=reset_request, request=request
                )
                messages.info(request, _("La demande est refusée : rien n'a été retiré."))
                return redirect("second_factor:reset_request", pk=reset_request.pk)
            except actions.SecondFactorResetError as failure:
                form.add_error(None, failure.message)
                own = actor.pk in {reset_request.requested_by_id, reset_request.user_id}
                status = 403 if own else 409
    now = timezone.now()
    return render(
        request,
        "mfa/manage/request.html",
        {
            "reset_request": reset_request,
            "form": form,
            "is_open": reset_request.state == ResetRequestState.PENDING
            and reset_request.expires_at > now,
            "is_requester": actor.pk == reset_request.requested_by_id,
            "is_subject": actor.pk == reset_request.user_id,
            "factors": _factors_of(reset_request.user),
            "identity_checks": dict(IDENTITY_CHECKS),
        },
        status=status,
    )
