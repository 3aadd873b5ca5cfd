"""The person's view of single sign-on: services they authorised, and withdrawing consent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oauth2_provider.scopes import get_scopes_backend

from convergence.accounts.http import AuthenticatedRequest
from convergence.sso import actions
from convergence.sso.actions.sessions import current_sso_session
from convergence.sso.models import Consent, Participation


@login_required
def authorised_services(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    descriptions = get_scopes_backend().get_all_scopes()
    consents = [
        (consent, [descriptions.get(scope, scope) for scope in consent.scopes.split()])
        for consent in Consent.objects.filter(user=user)
        .select_related("service")
        .order_by("service__name")
    ]
    sso_session = current_sso_session(request)
    opened = (
        Participation.objects.filter(sso_session=sso_session)
        .select_related("oidc_client__service", "cas_service__service")
        .order_by("created")
        if sso_session is not None
        else Participation.objects.none()
    )
    return render(
        request,
        "sso/authorised_services.html",
        {"consents": consents, "opened": opened, "sso_session": sso_session},
    )


@login_required
@require_POST
def revoke(request: AuthenticatedRequest, consent_id: int) -> HttpResponse:
    user = request.user
    consent = get_object_or_404(Consent.objects.select_related("service"), pk=consent_id, user=user)
    actions.revoke_consent(user=user, service=consent.service, request=request)
    messages.success(
        request,
        _("« %(name)s » ne reçoit plus vos informations. Il vous redemandera votre accord.")
        % {"name": consent.service.name},
    )
    return redirect("sso:authorised_services")
