"""The mail app: the webmail over the académie's IMAP/SMTP servers (no mail is stored in the
portal), app passwords for phones and mail clients, and their set-up."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "convergence.mail"
    label = "mail"
    verbose_name = _("Messagerie")

    def ready(self) -> None:
        from convergence.mail import (
            events,  # noqa: F401  (declares its audit event types)
        )
