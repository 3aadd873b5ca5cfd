"""Audit event types of sessions and devices."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

SESSION_ENDED = declare("session.ended", _("Session terminée"))
SESSIONS_ENDED_BY_ADMIN = declare(
    "session.ended_by_admin", _("Sessions terminées par l'administration")
)
NEW_DEVICE = declare("login.new_device", _("Connexion depuis un nouvel appareil"))
