"""What the public notice says of activation letters and import files (``core.data_notice``):
both hold personal data only for as long as they serve."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.core import data_notice
from convergence.provisioning.letters import STALE_AFTER


def register() -> None:
    """Called from ``ProvisioningConfig.ready``."""
    data_notice.declare_kept(
        "letters",
        _("Lettres d'activation"),
        what=_(
            "Le fichier PDF des lettres imprimées par un référent ou la DSI : nom, identifiant, "
            "classe et code d'activation de chaque élève ou parent."
        ),
        purpose=_("Remettre à chacun de quoi activer son compte."),
        retention=lambda: (
            gettext("Fichier effacé %(delay)s après sa fabrication.")
            % {"delay": data_notice.duration(STALE_AFTER)}
        ),
        order=90,
    )
    data_notice.declare_kept(
        "imports",
        _("Fichiers d'import"),
        what=_(
            "Les extractions SIECLE (élèves, responsables légaux) et STS (personnels) que la "
            "DSI dépose pour créer et mettre à jour les comptes."
        ),
        purpose=_("Créer les comptes à la rentrée et les tenir à jour."),
        retention=lambda: _("Fichier effacé dès que l'import est appliqué."),
        order=95,
    )
