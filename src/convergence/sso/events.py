"""Audit event types of single sign-on."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

SERVICE_LOGIN = declare("sso.service_login", _("Connexion à un service"), security=False)
SERVICE_REFUSED = declare("sso.service_refused", _("Accès à un service refusé"))
CONSENT_GRANTED = declare("sso.consent_granted", _("Consentement accordé à un service"))
CONSENT_REVOKED = declare("sso.consent_revoked", _("Consentement retiré"))
CODE_REUSED = declare("sso.code_reused", _("Code d'autorisation réutilisé : jetons révoqués"))
CODE_VERIFIER_REJECTED = declare(
    "sso.code_verifier_rejected", _("Code d'autorisation détruit : vérificateur PKCE refusé")
)
REFRESH_TOKEN_REUSED = declare(
    "sso.refresh_token_reused", _("Jeton de renouvellement réutilisé : famille révoquée")
)
TICKET_REJECTED = declare("sso.ticket_rejected", _("Ticket CAS refusé"))
SSO_ENDED = declare("sso.session_ended", _("Session d'authentification unique terminée"))
LOGOUT_FAILED = declare("sso.logout_failed", _("Déconnexion d'un service non délivrée"))
KEY_ROTATED = declare("sso.key_rotated", _("Clé de signature OpenID Connect renouvelée"))
