"""Audit event types of the notifications app: a person's own decisions (preferences, the
devices that receive their notifications)."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

PREFERENCES_CHANGED = declare(
    "notifications.preferences_changed",
    _("Préférences de notification modifiées"),
    security=False,
)

PUSH_DEVICE_ADDED = declare(
    "notifications.push_device_added",
    _("Appareil ajouté pour les notifications"),
    security=False,
)

PUSH_DEVICE_REMOVED = declare(
    "notifications.push_device_removed",
    _("Appareil retiré des notifications"),
    security=False,
)
