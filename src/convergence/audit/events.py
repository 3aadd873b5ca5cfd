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

# Account life (issue 4): activation, recovery, second factors, sessions, imports, purges.
ACTIVATION_LETTER_ISSUED = declare("activation.letter_issued", _("Lettre d'activation produite"))
ACCOUNT_ACTIVATED = declare("account.activated", _("Compte activé"))
ACTIVATION_FAILED = declare("activation.failed", _("Échec d'activation"))
RECOVERY_CONTACT_CHANGED = declare("recovery.contact_changed", _("Moyen de secours modifié"))
RECOVERY_CONTACT_CONFIRMED = declare("recovery.contact_confirmed", _("Moyen de secours confirmé"))
PASSWORD_RESET_REQUESTED = declare(
    "password.reset_requested", _("Réinitialisation du mot de passe demandée")
)
PASSWORD_RESET = declare("password.reset", _("Mot de passe réinitialisé"))
PASSWORD_RESET_BY_REFERENT = declare(
    "password.reset_by_referent", _("Mot de passe réinitialisé par un référent")
)
LOGIN_REMINDER_SENT = declare("login.reminder_sent", _("Identifiant envoyé par courriel"))
MFA_ENABLED = declare("mfa.enabled", _("Second facteur ajouté"))
MFA_REMOVED = declare("mfa.removed", _("Second facteur supprimé"))
MFA_RECOVERY_CODES_GENERATED = declare(
    "mfa.recovery_codes_generated", _("Codes de secours générés")
)
MFA_RECOVERY_CODE_USED = declare("mfa.recovery_code_used", _("Code de secours utilisé"))
MFA_FAILED = declare("mfa.failed", _("Échec du second facteur"))
MFA_RESET_BY_SUPPORT = declare(
    "mfa.reset_by_support", _("Seconds facteurs retirés après vérification d'identité")
)
MFA_STEP_UP = declare("mfa.step_up", _("Second facteur demandé pour un service sensible"))
SESSION_ENDED = declare("session.ended", _("Session terminée"))
SESSIONS_ENDED_BY_ADMIN = declare(
    "session.ended_by_admin", _("Sessions terminées par l'administration")
)
NEW_DEVICE = declare("login.new_device", _("Connexion depuis un nouvel appareil"))
IMPORT_RUN = declare("import.run", _("Import de comptes"))
SCHOOL_YEAR_CLOSED = declare("school_year.closed", _("Année scolaire close"))
ACCOUNT_ARCHIVED = declare("account.archived", _("Compte archivé (départ)"))
PERSONAL_DATA_PURGED = declare("account.purged", _("Données personnelles supprimées"))
AUDIT_PURGED = declare("audit.purged", _("Journal d'audit purgé"), security=False)
DATA_EXPORTED = declare("rgpd.exported", _("Export des données personnelles"))

# Refused access to another person's data or to staff pages (issue 9, finding 9); rate-limited
# by ``actions.record_refusal``.
ACCESS_REFUSED = declare("access.refused", _("Accès refusé (données d'autrui ou page réservée)"))
