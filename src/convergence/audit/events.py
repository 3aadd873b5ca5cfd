"""Audit event types, declared once; other apps declare theirs with :func:`declare`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class SignIn(enum.Enum):
    """What an event says of a sign-in attempt, for the sign-in counters of ``/metrics``."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class EventType:
    code: str
    label: str | Promise
    security: bool = True
    sign_in: SignIn | None = None


_TYPES: dict[str, EventType] = {}


def declare(
    code: str, label: str | Promise, *, security: bool = True, sign_in: SignIn | None = None
) -> EventType:
    existing = _TYPES.get(code)
    if existing is not None:
        return existing
    event_type = EventType(code, label, security, sign_in)
    _TYPES[code] = event_type
    return event_type


def get(code: str) -> EventType | None:
    return _TYPES.get(code)


def choices() -> list[tuple[str, str | Promise]]:
    return [(t.code, t.label) for t in sorted(_TYPES.values(), key=lambda t: t.code)]


ADMIN_CHANGE = declare("admin.change", _("Modification par l'administration"))

# Account life (issue 4): activation, recovery, second factors, sessions, imports, purges.
AUDIT_PURGED = declare("audit.purged", _("Journal d'audit purgé"), security=False)

# Refused access to another person's data or to staff pages (issue 9, finding 9); rate-limited
# by ``actions.record_refusal``.
ACCESS_REFUSED = declare("access.refused", _("Accès refusé (données d'autrui ou page réservée)"))
