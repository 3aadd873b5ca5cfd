"""'Mes données' exports: what the portal holds on a person, collected and audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from convergence.accounts import events
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core import personal_data


def export_personal_data(
    *, acting_user: User, person: User, fmt: str, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Everything the portal holds on ``person`` (the actor or their minor child, checked by
    the caller), for a download in ``fmt``. Audited as ``rgpd.exported``: the format, and
    whether a parent exported a child's data."""
    data = personal_data.collect_personal_data(person)
    record_event(
        event_type=events.DATA_EXPORTED,
        request=request,
        actor=acting_user,
        subject=person,
        data={"format": fmt, "child": person.pk != acting_user.pk},
    )
    return data
