"""The dashboard widget "Besoin d'aide ?": the person's contacts and whether they are open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from convergence.support import contacts, hours
from convergence.support.hours import state_at


def need_help(request: HttpRequest) -> dict[str, Any] | None:
    """An inline widget: the audience is one indexed query, the contacts and their hours come
    from the cache (shared by everyone with the same roles and departments), and the state
    is computed from them in memory."""
    user = request.user
    if not user.is_authenticated:
        return None
    audience = contacts.audience_of(user)
    summaries = contacts.summaries_for(audience) if audience.roles else []
    if not summaries:
        return None
    now = hours.now()
    return {
        "contacts": [
            {
                "name": summary.name,
                "department": summary.department,
                "phone": summary.phone,
                "state": state_at(summary.schedule, now),
            }
            for summary in summaries
        ]
    }
