"""What the public notice says of the audit trail (``core.data_notice``); the person's own
entries are shown in "Mes données" by devices."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.core import data_notice


def _audit_kept() -> str:
    return gettext(
        "%(delay)s, puis supprimé. Quand un compte est supprimé, ses entrées restent jusqu'à "
        "cette échéance, détachées du compte."
    ) % {"delay": data_notice.duration(datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS))}


def register() -> None:
    """Called from ``AuditConfig.ready``."""
    data_notice.declare_kept(
        "audit",
        _("Journal des événements de sécurité"),
        what=_(
            "Connexions réussies et échouées, changements de mot de passe, de moyens de secours "
            "et de second facteur, actions des référents et de l'administration sur un compte : "
            "date, compte concerné, auteur, adresse IP et navigateur."
        ),
        purpose=_(
            "Sécurité du portail : repérer et instruire un accès frauduleux, savoir qui a fait "
            "quoi sur un compte, vous montrer l'activité récente de votre compte."
        ),
        retention=_audit_kept,
        order=80,
    )
