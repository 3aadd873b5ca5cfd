"""Audit event types of service status: incidents, maintenance windows, subscriptions."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

INCIDENT_OPENED = declare("status.incident_opened", _("Incident ouvert"), security=False)
INCIDENT_UPDATED = declare("status.incident_updated", _("Incident mis à jour"), security=False)
INCIDENT_PUBLISHED = declare("status.incident_published", _("Incident publié"), security=False)
INCIDENT_RESOLVED = declare("status.incident_resolved", _("Incident résolu"), security=False)
MAINTENANCE_SCHEDULED = declare(
    "status.maintenance_scheduled", _("Maintenance programmée"), security=False
)
MAINTENANCE_CANCELLED = declare(
    "status.maintenance_cancelled", _("Maintenance annulée"), security=False
)
SUBSCRIBED = declare("status.subscribed", _("Abonnement à l'état d'un service"), security=False)
UNSUBSCRIBED = declare(
    "status.unsubscribed", _("Désabonnement de l'état d'un service"), security=False
)
