"""Audit event types, declared once; other apps declare theirs with :func:`declare`."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EventType:
    code: str
    label: str | Promise
    security: bool = True


_TYPES: dict[str, EventType] = {}


def declare(code: str, label: str | Promise, *, security: bool = True) -> EventType:
    existing = _TYPES.get(code)
    if existing is not None:
        return existing
    event_type = EventType(code, label, security)
    _TYPES[code] = event_type
    return event_type


def get(code: str) -> EventType | None:
    return _TYPES.get(code)


def choices() -> list[tuple[str, str | Promise]]:
    return [(t.code, t.label) for t in sorted(_TYPES.values(), key=lambda t: t.code)]


LOGIN_SUCCEEDED = declare("login.succeeded", _("Connexion réussie"))
LOGIN_FAILED = declare("login.failed", _("Échec de connexion"))
LOGIN_THROTTLED = declare("login.throttled", _("Connexion retardée (trop d'échecs)"))
LOGOUT = declare("logout", _("Déconnexion"))
PASSWORD_CHANGED = declare("password.changed", _("Mot de passe modifié"))
ACCOUNT_CREATED = declare("account.created", _("Compte créé"))
ACCOUNT_STATE_CHANGED = declare("account.state_changed", _("État du compte modifié"))
ADMIN_CHANGE = declare("admin.change", _("Modification par l'administration"))
THROTTLE_CLEARED = declare("throttle.cleared", _("Délais de connexion levés"))
