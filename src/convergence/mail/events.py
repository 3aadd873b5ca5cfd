"""Audit event types of the webmail: app passwords, and the mail server's sign-ins with them."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

APP_PASSWORD_CREATED = declare(
    "mail.app_password_created", _("Mot de passe d'application créé"), security=True
)
APP_PASSWORD_REVOKED = declare(
    "mail.app_password_revoked", _("Mot de passe d'application révoqué"), security=True
)
APP_PASSWORD_REFUSED = declare(
    "mail.app_password_refused",
    _("Mot de passe d'application refusé par le serveur de messagerie"),
    security=True,
)
MESSAGE_SENT = declare(
    "mail.message_sent", _("Message envoyé depuis la messagerie web"), security=False
)
