"""What the public notice on personal data (``core.data_notice``) says the API keeps: the
answers given to services, identifiers of the people left out included, for a day."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.core import data_notice


def _answers_kept() -> str | Promise:
    return gettext("%(hours)s heures") % {"hours": settings.API_IDEMPOTENCY_HOURS}


def register() -> None:
    """Called from ``ApiConfig.ready``."""
    data_notice.declare_kept(
        "api_answers",
        _("Réponses de l'API aux services"),
        what=_(
            "La réponse donnée à un service qui a envoyé une notification : nombre de "
            "personnes notifiées et identifiants de celles qu'il ne sert pas."
        ),
        purpose=_(
            "Rendre la même réponse si le service répète son envoi, sans notifier deux fois."
        ),
        retention=_answers_kept,
        order=88,
    )
