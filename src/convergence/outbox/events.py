"""Audit event types of the outbox."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

MAIL_ABANDONED = declare(
    "mail.abandoned", _("Courriel abandonné (le serveur de courriel ne l'a jamais accepté)")
)
