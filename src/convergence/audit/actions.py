"""Writing to the audit trail: the one way any app records a security event, and its purge."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from convergence.audit import metrics
from convergence.audit.events import ACCESS_REFUSED, AUDIT_PURGED, EventType
from convergence.audit.models import AuditEvent
from convergence.core import ratelimit
from convergence.core.http import client_ip, user_agent

logger = logging.getLogger(__name__)

# A refusal is audited at most once per (actor, kind, target) in this window, and at most
# REFUSALS_PER_ACTOR rows per actor in it: a loop of refused requests cannot fill the trail.
REFUSAL_WINDOW_SECONDS = 60
REFUSALS_PER_ACTOR = 10

AUDIT_PURGE_BATCH = 5000

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
    """Insert one audit row (one write) and count it (``audit.metrics``). Keys that could hold
    a secret are refused."""
    details = dict(data or {})
    leaked = SECRET_KEYS.intersection(details)
    if leaked:
        raise ValueError(f"Refusing to audit secret fields: {sorted(leaked)}")
    actor = actor if actor is not None and getattr(actor, "pk", None) else None
    subject = subject if subject is not None and getattr(subject, "pk", None) else None
    event = AuditEvent.objects.create(
        event_type=event_type.code,
        actor=actor,
        subject=subject,
        identifier_digest=digest_identifier(identifier) if identifier and not subject else "",
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        data=details,
    )
    metrics.count_event(event_type)
    return event


def record_refusal(
    *,
    kind: str,
    request: HttpRequest | None,
    actor: Any = None,
    target: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Audit a refused access (``access.refused``), rate-limited; the row, or None if skipped.

    ``kind`` says what was refused (``"staff_page"``, ``"account"``, ``"child_data"``…),
    ``target`` the primary key of what was asked for, when known (stored as given, never
    looked up: the answer to the request does not depend on whether it exists). The row
    names the actor, the address, the method and the path. At most one row per (actor,
    kind, target) per ``REFUSAL_WINDOW_SECONDS``, and ``REFUSALS_PER_ACTOR`` per actor in
    that window (the shared limiter). When the limiter is unreachable the row is written
    anyway: the refusal has already happened, and its trace matters more than its volume.
    """
    actor_pk = getattr(actor, "pk", None)
    who = f"user:{actor_pk}" if actor_pk else f"ip:{client_ip(request) if request else ''}"
    target_pk = getattr(target, "pk", target)
    try:
        pair = ratelimit.key("audit-refusal", who, kind, target_pk)
        if not ratelimit.first_time(pair, window=REFUSAL_WINDOW_SECONDS):
            return None
        per_actor = ratelimit.key("audit-refusal-actor", who)
        if ratelimit.hit(per_actor, limit=REFUSALS_PER_ACTOR, window=REFUSAL_WINDOW_SECONDS):
            return None
    except ratelimit.LimiterUnavailable:
        logger.warning("Refusal audited without its rate limit: the limiter is unreachable")
    details: dict[str, Any] = {"kind": kind, **(data or {})}
    if target_pk is not None:
        details["target"] = target_pk
    if request is not None:
        details.setdefault("path", request.get_full_path()[:300])
        details.setdefault("method", request.method)
    return record_event(event_type=ACCESS_REFUSED, request=request, actor=actor, data=details)


def purge_old_audit_events(*, now: datetime.datetime | None = None) -> int:
    """Delete audit entries older than the audit retention time (twelve months by default).

    Batches of ``AUDIT_PURGE_BATCH`` rows; audited as ``audit.purged`` with the count.
    Returns the number of entries deleted.
    """
    moment = now or timezone.now()
    cutoff = moment - datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    old = AuditEvent.objects.filter(occurred_at__lt=cutoff)
    purged = 0
    while True:
        batch = list(old.values_list("pk", flat=True)[:AUDIT_PURGE_BATCH])
        if not batch:
            break
        with transaction.atomic():
            AuditEvent.objects.filter(pk__in=batch).delete()
        purged += len(batch)
    if purged:
        record_event(
            event_type=AUDIT_PURGED,
            data={"events": purged, "retention_days": settings.AUDIT_RETENTION_DAYS},
        )
    return purged
