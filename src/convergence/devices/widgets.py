"""Dashboard widgets of the devices app."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from convergence.accounts import events
from convergence.audit.models import AuditEvent

logger = logging.getLogger(__name__)


def _compute_previous_sign_in(user: Any) -> dict[str, Any]:
    sign_ins = list(
        AuditEvent.objects.filter(subject=user)
        .of_type(events.LOGIN_SUCCEEDED)
        .order_by("-occurred_at")
        .values("occurred_at", "ip_address")[:2]
    )
    if len(sign_ins) < 2:
        return {"previous": None, "failures": 0}
    current, previous = sign_ins
    failures = (
        AuditEvent.objects.filter(subject=user)
        .of_type(events.LOGIN_FAILED, events.LOGIN_THROTTLED)
        .filter(occurred_at__gt=previous["occurred_at"], occurred_at__lte=current["occurred_at"])
        .count()
    )
    return {"previous": previous, "failures": failures}


def previous_sign_in(request: HttpRequest) -> dict[str, Any] | None:
    """The sign-in before this one and the failed attempts in between, so a person notices
    a sign-in that was not theirs.

    An inline widget: it describes how this session began, which does not change while the
    session lasts, so it is read from the audit trail once per session and then cached.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    session_key = request.session.session_key or ""
    if not session_key:
        return _compute_previous_sign_in(user)
    key = "devices:previous-sign-in:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]
    try:
        context: dict[str, Any] | None = cache.get(key)
    except Exception:  # the cache down: read the audit trail each time
        return _compute_previous_sign_in(user)
    if context is None:
        context = _compute_previous_sign_in(user)
        try:
            cache.set(key, context, settings.SESSION_COOKIE_AGE)
        except Exception:
            logger.warning("Cache unreachable: the previous sign-in was not stored.")
    return context
