"""Who may open which service: the catalogue's audience is the SSO's audience."""

from __future__ import annotations

from django.http import HttpRequest

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.portal.models import Service
from convergence.sso import events


def may_open(user: User, service: Service | None) -> bool:
    return service is not None and Service.objects.visible_to(user).filter(pk=service.pk).exists()


def refuse(request: HttpRequest, service: Service | None, protocol: str) -> None:
    """Audit a refusal (the view shows the page)."""
    record_event(
        event_type=events.SERVICE_REFUSED,
        request=request,
        actor=request.user,
        subject=request.user,
        data={"service": service.slug if service else "", "protocol": protocol},
    )
