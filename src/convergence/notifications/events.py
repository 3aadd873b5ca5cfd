"""Audit event types of the notifications app: a person's own decisions."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

PREFERENCES_CHANGED = declare(
    "notifications.preferences_changed",
    _("Préférences de notification modifiées"),
    security=False,
)
