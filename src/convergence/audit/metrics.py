"""Prometheus counters of audit events: every type, and sign-ins, failures and throttling.

Counted when ``audit.actions.record_event`` writes the row (a row later rolled back with its
transaction is still counted: the attempt happened). The labels are the declared event types'
codes, a bounded set; never a person, an address or an identifier.
"""

from __future__ import annotations

from prometheus_client import Counter

from convergence.audit.events import EventType, SignIn

AUDIT_EVENTS = Counter(
    "convergence_audit_events",
    "Audit events recorded, per event type (audit/events.py and each app's events.py).",
    ["event_type"],
)
SIGN_INS = Counter(
    "convergence_sign_ins",
    "Successful sign-ins (audit events declared sign_in=SUCCEEDED).",
)
SIGN_IN_FAILURES = Counter(
    "convergence_sign_in_failures",
    "Refused sign-in attempts: wrong password or second-factor code (sign_in=FAILED).",
)
THROTTLED_ATTEMPTS = Counter(
    "convergence_throttled_attempts",
    "Sign-in attempts delayed by throttling, password or second factor (sign_in=THROTTLED).",
)

# Which counter an event type feeds, by what its declaration says of sign-ins
# (``declare(..., sign_in=...)`` in accounts and mfa): audit names no code of theirs.
_SIGN_IN_COUNTERS: dict[SignIn, Counter] = {
    SignIn.SUCCEEDED: SIGN_INS,
    SignIn.FAILED: SIGN_IN_FAILURES,
    SignIn.THROTTLED: THROTTLED_ATTEMPTS,
}


def count_event(event_type: EventType) -> None:
    """Count one recorded audit event of ``event_type``."""
    AUDIT_EVENTS.labels(event_type.code).inc()
    if event_type.sign_in is not None:
        _SIGN_IN_COUNTERS[event_type.sign_in].inc()
