"""The error codes of the webmail, declared in ``core.errors`` so the help app explains each."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import errors

MAIL_UNAVAILABLE = errors.register(
    errors.ErrorCode(
        "CONV-503-MESSAGERIE",
        503,
        _("Messagerie momentanément indisponible"),
        _(
            "Le serveur de messagerie de l'académie ne répond pas, ou pas assez vite. Vos "
            "messages ne sont pas perdus : ils restent sur le serveur. Le reste du portail "
            "fonctionne normalement."
        ),
        _(
            "Réessayez dans quelques minutes. La page « État des services » dit si une panne "
            "est connue et quand elle devrait être réparée."
        ),
    )
)
NO_MAILBOX = errors.register(
    errors.ErrorCode(
        "CONV-403-MESSAGERIE",
        403,
        _("Pas de messagerie académique"),
        _(
            "Votre compte n'a pas de boîte aux lettres sur la messagerie de l'académie : c'est "
            "le cas des comptes de parents, qui gardent leur adresse personnelle."
        ),
        _(
            "Les messages de l'établissement vous arrivent à l'adresse personnelle indiquée dans "
            "« Mon compte ». Si vous êtes un personnel ou un élève, contactez le référent "
            "numérique de votre établissement."
        ),
    )
)
