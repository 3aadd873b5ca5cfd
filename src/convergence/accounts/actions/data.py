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
    # A parent's download of their child's data leaves network details out: the child's
    # addresses and browsers are shown to the child alone (and the DSI).
    data = personal_data.collect_personal_data(
        person,
        readable=fmt != "json",
        network=(
            personal_data.Disclosure.FULL
            if person.pk == acting_user.pk
            else personal_data.Disclosure.HIDDEN
        ),
    )
    record_event(
        event_type=events.DATA_EXPORTED,
        request=request,
        actor=acting_user,
        subject=person,
        data={"format": fmt, "child": person.pk != acting_user.pk},
    )
    return data
