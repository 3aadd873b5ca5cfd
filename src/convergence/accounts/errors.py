"""The error codes of the sign-in, activation and recovery pages, declared in the registry of
``core.errors`` when the app is ready, so that the help app explains each one.

A refusal says the same whatever account was typed (no account enumeration): each code names
the kind of refusal, never its reason.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import errors

SIGN_IN_REFUSED = errors.register(
    errors.ErrorCode(
        "CONV-401-CONNEXION",
        401,
        _("Identifiant ou mot de passe incorrect"),
        _(
            "Le portail n'a pas pu vous connecter avec l'identifiant et le mot de passe saisis. "
            "Par sécurité, il ne dit pas lequel des deux est en cause, ni si le compte existe."
        ),
        _(
            "Vérifiez le profil choisi, l'identifiant (identifiant académique, ou adresse "
            "électronique pour les parents et les personnels) et la touche Verr. Maj, puis "
            "réessayez. Identifiant ou mot de passe oublié : utilisez « Identifiant oublié » ou "
            "« Mot de passe oublié ». Compte jamais activé : utilisez votre lettre d'activation."
        ),
    )
)
ACTIVATION_REFUSED = errors.register(
    errors.ErrorCode(
        "CONV-400-ACTIVATION",
        400,
        _("Activation refusée"),
        _(
            "L'identifiant, le code d'activation ou, pour un élève, la date de naissance ne "
            "correspondent pas à une lettre d'activation valable : une information est mal "
            "recopiée, le code a expiré, a déjà servi ou a été remplacé par une lettre plus "
            "récente, ou ce compte ne peut pas être activé. Par sécurité, le portail ne dit pas "
            "laquelle."
        ),
        _(
            "Recopiez l'identifiant et le code tels qu'ils figurent sur la lettre. Après "
            "plusieurs erreurs, le code n'est plus valable : demandez une nouvelle lettre au "
            "référent numérique de l'établissement, elle annule l'ancienne."
        ),
    )
)
RECOVERY_LINK_INVALID = errors.register(
    errors.ErrorCode(
        "CONV-400-SECOURS",
        400,
        _("Lien ou code de récupération non valable"),
        _(
            "Le lien reçu par courriel ou le code reçu par SMS pour choisir un nouveau mot de "
            "passe n'est pas valable : il est erroné, a expiré, a déjà servi ou a été remplacé "
            "par une demande plus récente."
        ),
        _(
            "Faites une nouvelle demande sur « Mot de passe oublié » et utilisez le dernier lien "
            "ou code reçu, sans attendre. Après cinq erreurs, un code reçu par SMS ne "
            "fonctionne plus."
        ),
    )
)
RECOVERY_THROTTLED = errors.register(
    errors.ErrorCode(
        "CONV-429-SECOURS",
        429,
        _("Trop de demandes"),
        _(
            "Beaucoup de demandes de récupération (mot de passe, identifiant ou code reçu "
            "par SMS) ont été faites récemment depuis ce réseau. Pour protéger les comptes, "
            "le portail impose une pause. Aucun compte n'est bloqué."
        ),
        _(
            "Patientez le temps indiqué puis réessayez. En cas d'urgence, le référent "
            "numérique de l'établissement peut réinitialiser le mot de passe d'un élève."
        ),
    )
)
