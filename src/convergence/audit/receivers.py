"""The audit trail's listeners: changes made in the administration (``core.signals``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from convergence.audit import events
from convergence.audit.actions import record_event


def record_admin_change(
    sender: Any, *, request: HttpRequest, obj: Any, action: str, **kwargs: Any
) -> None:
    record_event(
        event_type=events.ADMIN_CHANGE,
        request=request,
        actor=request.user,
        data={
            "action": action,
            "model": obj._meta.label_lower,
            "object_id": str(getattr(obj, "pk", "")),
            "object": str(obj)[:200],
        },
    )
