"""Audit event types of accounts: sign-in, passwords, throttling, activation, recovery."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import SignIn, declare

LOGIN_SUCCEEDED = declare("login.succeeded", _("Connexion réussie"), sign_in=SignIn.SUCCEEDED)
LOGIN_FAILED = declare("login.failed", _("Échec de connexion"), sign_in=SignIn.FAILED)
LOGIN_THROTTLED = declare(
    "login.throttled", _("Connexion retardée (trop d'échecs)"), sign_in=SignIn.THROTTLED
)
LOGOUT = declare("logout", _("Déconnexion"))
PASSWORD_CHANGED = declare("password.changed", _("Mot de passe modifié"))
ACCOUNT_CREATED = declare("account.created", _("Compte créé"))
ACCOUNT_STATE_CHANGED = declare("account.state_changed", _("État du compte modifié"))
THROTTLE_CLEARED = declare("throttle.cleared", _("Délais de connexion levés"))
ACCOUNT_ACTIVATED = declare("account.activated", _("Compte activé"))
ACTIVATION_FAILED = declare("activation.failed", _("Échec d'activation"))
RECOVERY_CONTACT_CHANGED = declare("recovery.contact_changed", _("Moyen de secours modifié"))
RECOVERY_CONTACT_CONFIRMED = declare("recovery.contact_confirmed", _("Moyen de secours confirmé"))
PASSWORD_RESET_REQUESTED = declare(
    "password.reset_requested", _("Réinitialisation du mot de passe demandée")
)
PASSWORD_RESET = declare("password.reset", _("Mot de passe réinitialisé"))
PASSWORD_RESET_BY_REFERENT = declare(
    "password.reset_by_referent", _("Mot de passe réinitialisé par un référent")
)
LOGIN_REMINDER_SENT = declare("login.reminder_sent", _("Identifiant envoyé par courriel"))
DATA_EXPORTED = declare("rgpd.exported", _("Export des données personnelles"))
LOGIN_SPRAYING_DETECTED = declare(
    "login.spraying_detected",
    _("Attaque par pulvérisation de mots de passe détectée (échecs sur de nombreux comptes)"),
)
MFA_THROTTLED = declare(
    "mfa.throttled", _("Second facteur retardé (trop d'échecs)"), sign_in=SignIn.THROTTLED
)
MFA_FAILURES_ALERTED = declare(
    "mfa.failures_alerted", _("Personne prévenue de codes de second facteur erronés")
)
DEVICE_LINK_REQUESTED = declare(
    "login.device_link_requested", _("Lien de connexion pour un nouveau navigateur demandé")
)
DEVICE_APPROVED = declare(
    "login.device_approved", _("Navigateur reconnu par un lien reçu par courriel")
)
PASSWORD_RESET_CODE_FAILED = declare(
    "password.reset_code_failed", _("Code de réinitialisation reçu par SMS erroné")
)
RECOVERY_THROTTLED = declare(
    "recovery.throttled", _("Trop de demandes de récupération (mot de passe, identifiant, code)")
)
RECOVERY_SEND_CAPPED = declare(
    "recovery.send_capped",
    _("Lien, code ou rappel d'identifiant non envoyé : trop d'envois récents pour ce compte"),
)
PASSWORD_RESET_DELIVERY_FAILED = declare(
    "password.reset_delivery_failed",
    _("Lien ou code de réinitialisation non envoyé (messagerie ou SMS en panne)"),
)
ACTIVATION_LETTER_ISSUED = declare("activation.letter_issued", _("Lettre d'activation produite"))
GUARDIANSHIP_CREATED = declare("guardianship.created", _("Responsable légal rattaché"))
ROLES_GRANTED = declare("account.roles_granted", _("Rôles attribués"))
PASSWORD_SET = declare("password.set", _("Mot de passe défini par la configuration"))
ADMINISTRATOR_CHANGED = declare(
    "account.administrator_changed", _("Accès à l'administration modifié")
)
