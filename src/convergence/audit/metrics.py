"""Prometheus counters of audit events: every type, and sign-ins, failures and throttling.

Counted when ``audit.actions.record_event`` writes the row (a row later rolled back with its
transaction is still counted: the attempt happened). The labels are the declared event types'
codes, a bounded set; never a person, an address or an identifier.
"""

from __future__ import annotations

from prometheus_client import Counter

AUDIT_EVENTS = Counter(
    "convergence_audit_events",
    "Audit events recorded, per event type (audit/events.py and each app's events.py).",
    ["event_type"],
)
SIGN_INS = Counter(
    "convergence_sign_ins",
    "Successful sign-ins (audit event login.succeeded).",
)
SIGN_IN_FAILURES = Counter(
    "convergence_sign_in_failures",
    "Refused sign-in attempts: wrong password or second-factor code (login.failed, mfa.failed).",
)
THROTTLED_ATTEMPTS = Counter(
    "convergence_throttled_attempts",
    "Sign-in attempts delayed by throttling, password or second factor "
    "(login.throttled, mfa.throttled).",
)

# Event codes, declared by the apps above audit (accounts, mfa), named here by their code
# only: audit does not import them.
_SIGN_IN_COUNTERS: dict[str, Counter] = {
    "login.succeeded": SIGN_INS,
    "login.failed": SIGN_IN_FAILURES,
    "mfa.failed": SIGN_IN_FAILURES,
    "login.throttled": THROTTLED_ATTEMPTS,
    "mfa.throttled": THROTTLED_ATTEMPTS,
}


def count_event(code: str) -> None:
    """Count one recorded audit event of type ``code``."""
    AUDIT_EVENTS.labels(code).inc()
    counter = _SIGN_IN_COUNTERS.get(code)
    if counter is not None:
        counter.inc()
