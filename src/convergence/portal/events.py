"""Audit event types of the portal: announcements written, published, withdrawn, sent and
acknowledged."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

ANNOUNCEMENT_CREATED = declare("announcement.created", _("Annonce rédigée"), security=False)
ANNOUNCEMENT_UPDATED = declare("announcement.updated", _("Annonce modifiée"), security=False)
ANNOUNCEMENT_PUBLISHED = declare(
    "announcement.published", _("Annonce publiée ou programmée"), security=False
)
ANNOUNCEMENT_SENT = declare(
    "announcement.sent", _("Annonce envoyée à ses destinataires"), security=False
)
ANNOUNCEMENT_WITHDRAWN = declare("announcement.withdrawn", _("Annonce retirée"), security=False)
ANNOUNCEMENT_ACKNOWLEDGED = declare(
    "announcement.acknowledged", _("Lecture d'une annonce confirmée"), security=False
)
