"""Dashboard widgets of the accounts app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from convergence.accounts import events
from convergence.audit.models import AuditEvent


def previous_sign_in(request: HttpRequest) -> dict[str, Any] | None:
    """The sign-in before this one, so a person notices one that was not theirs."""
    user = request.user
    if not user.is_authenticated:
        return None
    sign_ins = list(
        AuditEvent.objects.filter(subject=user)
        .of_type(events.LOGIN_SUCCEEDED)
        .order_by("-occurred_at")
        .values("occurred_at", "ip_address")[:2]
    )
    failures = (
        AuditEvent.objects.filter(subject=user)
        .of_type(events.LOGIN_FAILED, events.LOGIN_THROTTLED)
        .filter(occurred_at__gt=sign_ins[1]["occurred_at"])
        .count()
        if len(sign_ins) > 1
        else 0
    )
    return {"previous": sign_ins[1] if len(sign_ins) > 1 else None, "failures": failures}
