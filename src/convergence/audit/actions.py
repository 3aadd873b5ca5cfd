"""Writing to the audit trail: the one way any app records a security event."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from convergence.core.http import client_ip, user_agent

from .events import EventType
from .models import AuditEvent

SECRET_KEYS = {"password", "password1", "password2", "oldpassword", "token", "code", "secret"}


def digest_identifier(identifier: str) -> str:
    """A keyed, non-reversible digest of a typed identifier, stable for correlation."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, identifier.strip().lower().encode(), hashlib.sha256).hexdigest()


def record_event(
    *,
    event_type: EventType,
    request: HttpRequest | None = None,
    actor: Any = None,
    subject: Any = None,
    identifier: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Insert one audit row (one write). Keys that could hold a secret are refused."""
    details = dict(data or {})
    leaked = SECRET_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"Refusing to audit secret fields: {sorted(leaked)}")
    actor = actor if actor is not None and getattr(actor, "pk", None) else None
    subject = subject if subject is not None and getattr(subject, "pk", None) else None
    return AuditEvent.objects.create(
        event_type=event_type.code,
        actor=actor,
        subject=subject,
        identifier_digest=digest_identifier(identifier) if identifier and not subject else "",
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        data=details,
    )
