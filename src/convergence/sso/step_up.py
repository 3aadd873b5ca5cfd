"""Step-up at the door of a service: a service that needs a second factor (sensitive, or
Arena-like reached from outside the trusted networks, ``mfa/policy.py`` decides)
is opened only by a session that used one.

A person with a factor is sent to allauth's "confirm with your second factor" page and comes
back to the same authorization (OIDC) or ``/cas/login`` URL; the SSO session's ``acr`` is then
the MFA one (``actions.sessions.sso_session_for``). A person without a factor gets a French
page that sends them to enrol one. Both are audited (``mfa.step_up``).
"""

from __future__ import annotations

from enum import StrEnum

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from convergence.accounts.http import signed_in_user
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core import errors
from convergence.mfa import events
from convergence.mfa import policy as mfa_policy
from convergence.portal.models import Service
from convergence.sso.errors import SECOND_FACTOR_NEEDED
from convergence.sso.models import Acr


class Need(StrEnum):
    """Why a second factor is asked for."""

    NONE = ""
    SERVICE = "service"  # a sensitive service
    NETWORK = "network"  # an Arena-like service, outside the trusted networks
    REQUESTED = "acr_values"  # the OIDC client asked for the MFA acr


def acr_values_ask_mfa(acr_values: str) -> bool:
    """Whether an OIDC ``acr_values`` parameter asks for the MFA authentication context."""
    return Acr.MFA.value in acr_values.split()


def need_for(request: HttpRequest, service: Service | None, *, requested: bool = False) -> Need:
    """What this request needs before ``service`` opens (``Need.NONE`` when the session
    already used a second factor)."""
    if mfa_policy.session_used_mfa(request):
        return Need.NONE
    if service is not None and mfa_policy.second_factor_required(request, service):
        return Need.SERVICE if service.mfa_required else Need.NETWORK
    if requested:
        return Need.REQUESTED
    return Need.NONE


def must_ask(need: Need, user: User) -> bool:
    """Whether ``need`` stops the request: the académie's rules always do; a client's
    ``acr_values`` only for a person who has a factor to give."""
    if need is Need.NONE:
        return False
    return need is not Need.REQUESTED or mfa_policy.user_has_mfa(user)


def step_up(
    request: HttpRequest, service: Service | None, need: Need, *, protocol: str, return_to: str
) -> HttpResponse | None:
    """The answer that replaces the service's ticket or code, or ``None`` to go on.

    ``Need.REQUESTED`` is the client's wish, not the académie's rule: a person without a
    factor goes on with a password-only ``acr`` and the client decides (OIDC Core 3.1.2.1:
    ``acr_values`` is voluntary).
    """
    user = signed_in_user(request)
    if not must_ask(need, user):
        return None
    has_factor = mfa_policy.user_has_mfa(user)
    record_event(
        event_type=events.MFA_STEP_UP,
        request=request,
        actor=user,
        subject=user,
        data={
            "service": service.slug if service is not None else "",
            "protocol": protocol,
            "reason": need.value,
            "outcome": "asked" if has_factor else "no_factor",
        },
    )
    if has_factor:
        return HttpResponseRedirect(mfa_policy.step_up_url(user, return_to))
    return second_factor_needed(request, service, need)


def second_factor_needed(request: HttpRequest, service: Service | None, need: Need) -> HttpResponse:
    """The French page for a person who has no second factor yet (403: not let in)."""
    errors.remember(request, SECOND_FACTOR_NEEDED.code)
    return render(
        request,
        "sso/second_factor_needed.html",
        {
            "service": service,
            "outside_network": need is Need.NETWORK,
            "error_code": SECOND_FACTOR_NEEDED,
        },
        status=SECOND_FACTOR_NEEDED.status,
    )
