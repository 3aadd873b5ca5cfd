"""The error codes of single sign-on pages (refusals at a service's door), declared in the
registry of ``core.errors`` when the app is ready, so that the help app explains each one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import errors

SERVICE_REFUSED = errors.register(
    errors.ErrorCode(
        "CONV-403-SERVICE",
        403,
        _("Accès au service refusé"),
        _(
            "Votre compte ne donne pas accès à ce service : il est réservé à certains profils, "
            "établissements ou départements. Cela arrive souvent avec un lien ou un favori, "
            "ou après un changement d'établissement."
        ),
        _(
            "Ouvrez vos services depuis les tuiles de votre tableau de bord : elles ne montrent "
            "que ceux ouverts à votre compte. Si vous pensez que c'est une erreur, contactez le "
            "référent numérique de votre établissement en indiquant le nom du service."
        ),
    )
)
UNKNOWN_CAS_SERVICE = errors.register(
    errors.ErrorCode(
        "CONV-400-SERVICE-INCONNU",
        400,
        _("Service non déclaré"),
        _(
            "Le site qui vous a envoyé vers le portail n'est pas déclaré auprès de l'académie : "
            "vous ne pouvez pas vous y connecter avec votre compte académique."
        ),
        _(
            "Vous n'avez rien à faire de votre côté. Si ce service devrait être accessible, "
            "signalez-le au référent numérique de votre établissement en indiquant l'adresse "
            "du service. Méfiez-vous d'un site inconnu qui demande votre mot de passe académique."
        ),
    )
)
INVALID_SERVICE_REQUEST = errors.register(
    errors.ErrorCode(
        "CONV-400-DEMANDE-SERVICE",
        400,
        _("Connexion au service impossible"),
        _(
            "Le service qui vous a envoyé vers le portail a fait une demande de connexion "
            "incorrecte, ou n'est pas déclaré auprès de l'académie."
        ),
        _(
            "Vous n'avez rien à faire de votre côté : revenez au portail et, si cela se "
            "reproduit, signalez-le au service concerné en indiquant le code technique affiché."
        ),
    )
)
SECOND_FACTOR_NEEDED = errors.register(
    errors.ErrorCode(
        "CONV-403-SECOND-FACTEUR",
        403,
        _("Second facteur nécessaire"),
        _(
            "Ce service protège des données sensibles : il demande, en plus du mot de passe, "
            "un code changeant ou une clé d'accès (toujours, ou depuis l'extérieur du réseau de "
            "l'académie selon le service). Votre compte n'a pas encore de second facteur."
        ),
        _(
            "Activez les codes changeants ou une clé d'accès dans « Sécurité du compte », puis "
            "rouvrez le service depuis votre tableau de bord."
        ),
    )
)
LOGOUT_REFUSED = errors.register(
    errors.ErrorCode(
        "CONV-400-DECONNEXION-SERVICE",
        400,
        _("Déconnexion impossible"),
        _(
            "Le service qui vous a envoyé vers le portail a fait une demande de déconnexion "
            "incorrecte ou qui ne le concerne pas. Par sécurité, vous restez connecté au portail."
        ),
        _("Pour vous déconnecter, utilisez le bouton « Se déconnecter » du portail."),
    )
)
