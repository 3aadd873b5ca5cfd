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
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import actions
from ..forms.mfa import IDENTITY_CHECKS, ResetSecondFactorsForm
from ..mfa import HashedRecoveryCodes, pop_fresh_codes
from ..models import User
from ..permissions import get_managed_account_or_404, manager_required


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


@never_cache
@manager_required
@require_http_methods(["GET", "POST"])
def manage_reset_mfa(request: HttpRequest, pk: int) -> HttpResponse:
    """A référent (their pupils and parents) or the DSI (anyone) removes a lost second factor.

    404 outside the actor's delegation. The identity check is the form: what was checked,
    and the birth date the person gives, compared with the account's.
    """
    actor = request.user
    assert isinstance(actor, User)
    account = get_managed_account_or_404(actor, pk)
    factors = sorted(
        Authenticator.objects.filter(user=account).values_list("type", flat=True).distinct()
    )
    posted = request.POST if request.method == "POST" else None
    form = ResetSecondFactorsForm(posted, account=account)
    if request.method == "POST" and form.is_valid():
        removed = actions.reset_second_factors(
            acting_user=actor,
            user=account,
            checks=form.cleaned_data["checks"],
            request=request,
        )
        return render(
            request, "accounts/manage_mfa/done.html", {"account": account, "removed": removed}
        )
    return render(
        request,
        "accounts/manage_mfa/confirm.html",
        {
            "account": account,
            "form": form,
            "factors": factors,
            "identity_checks": IDENTITY_CHECKS,
        },
        status=400 if form.errors else 200,
    )
