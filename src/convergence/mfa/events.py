"""Audit event types of second factors: enrolment, use, failures, removal after checks."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import SignIn, declare

MFA_ENABLED = declare("mfa.enabled", _("Second facteur ajouté"))
MFA_REMOVED = declare("mfa.removed", _("Second facteur supprimé"))
MFA_RECOVERY_CODES_GENERATED = declare(
    "mfa.recovery_codes_generated", _("Codes de secours générés")
)
MFA_RECOVERY_CODE_USED = declare("mfa.recovery_code_used", _("Code de secours utilisé"))
MFA_FAILED = declare("mfa.failed", _("Échec du second facteur"), sign_in=SignIn.FAILED)
MFA_RESET_BY_SUPPORT = declare(
    "mfa.reset_by_support", _("Seconds facteurs retirés après vérification d'identité")
)
MFA_STEP_UP = declare("mfa.step_up", _("Second facteur demandé pour un service sensible"))
MFA_RESET_REQUESTED = declare(
    "mfa.reset_requested", _("Retrait d'un second facteur demandé (approbation requise)")
)
MFA_RESET_APPROVED = declare(
    "mfa.reset_approved", _("Retrait d'un second facteur approuvé par un second DSI")
)
MFA_RESET_REFUSED = declare("mfa.reset_refused", _("Retrait d'un second facteur refusé"))
MFA_RESET_EXPIRED = declare(
    "mfa.reset_expired", _("Demande de retrait d'un second facteur expirée")
)
MFA_RESET_CODE_SENT = declare(
    "mfa.reset_code_sent", _("Code de retrait du second facteur envoyé à l'adresse de secours")
)
