"""Who may open which service: the catalogue's audience is the SSO's audience."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core import errors
from convergence.portal.models import Service
from convergence.sso import events
from convergence.sso.errors import SERVICE_REFUSED


def may_open(user: User, service: Service | None) -> bool:
    return service is not None and Service.objects.visible_to(user).filter(pk=service.pk).exists()


def refuse(request: HttpRequest, service: Service | None, protocol: str) -> None:
    """Audit a refusal (the view then shows :func:`refused_page`, or redirects)."""
    record_event(
        event_type=events.SERVICE_REFUSED,
        request=request,
        actor=request.user,
        subject=request.user,
        data={"service": service.slug if service else "", "protocol": protocol},
    )


def refused_page(request: HttpRequest, service: Service | None) -> HttpResponse:
    """The French 403 page of a refusal, with its error code (kept for a support request)."""
    errors.remember(request, SERVICE_REFUSED.code)
    return render(
        request,
        "sso/refused.html",
        {"service": service, "error_code": SERVICE_REFUSED},
        status=SERVICE_REFUSED.status,
    )
