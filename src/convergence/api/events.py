"""Audit event types of the API."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

NOTIFICATIONS_POSTED = declare(
    "api.notifications_posted", _("Notification envoyée par un service (API)"), security=False
)
