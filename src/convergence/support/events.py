"""Audit event types of support tickets."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

TICKET_OPENED = declare("ticket.opened", _("Demande d'assistance ouverte"), security=False)
TICKET_REPLIED = declare("ticket.replied", _("Réponse à une demande d'assistance"), security=False)
TICKET_NOTE_ADDED = declare(
    "ticket.note_added", _("Note interne sur une demande d'assistance"), security=False
)
TICKET_STATUS_CHANGED = declare(
    "ticket.status_changed", _("État d'une demande d'assistance changé"), security=False
)
TICKET_REOPENED = declare("ticket.reopened", _("Demande d'assistance rouverte"), security=False)
TICKET_CLOSED = declare("ticket.closed", _("Demande d'assistance close"), security=False)
TICKET_RATED = declare("ticket.rated", _("Demande d'assistance évaluée"), security=False)
TICKET_FOLLOW_UP_REVOKED = declare(
    "ticket.follow_up_revoked", _("Liens de suivi d'une demande d'assistance révoqués")
)
