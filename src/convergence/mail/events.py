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
RULES_CHANGED = declare("mail.rules_changed", _("Règles de la messagerie modifiées"), security=True)
VACATION_CHANGED = declare(
    "mail.vacation_changed", _("Réponse automatique d'absence modifiée"), security=False
)
CONTACTS_IMPORTED = declare(
    "mail.contacts_imported", _("Contacts importés d'un fichier vCard"), security=False
)
CONTACT_DELETED = declare("mail.contact_deleted", _("Contact supprimé"), security=False)
CONTACT_GROUP_DELETED = declare(
    "mail.contact_group_deleted", _("Groupe de contacts supprimé"), security=False
)
SENDING_LIMIT_REACHED = declare(
    "mail.sending_limit_reached", _("Limite d'envoi de messages atteinte"), security=True
)
SENDING_SUSPENDED = declare(
    "mail.sending_suspended", _("Envoi de messages suspendu"), security=True
)
SENDING_RESUMED = declare(
    "mail.sending_resumed", _("Suspension de l'envoi de messages levée"), security=True
)
PHISHING_REPORTED = declare(
    "mail.phishing_reported", _("Message signalé comme hameçonnage"), security=True
)
PHISHING_WARNING_SENT = declare(
    "mail.phishing_warning_sent", _("Alerte d'hameçonnage envoyée à tous"), security=True
)
