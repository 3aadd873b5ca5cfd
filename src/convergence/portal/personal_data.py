"""The personal data of the portal ("Mes données"): favourite services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import personal_data
from convergence.portal.models import Favourite


def _favourites(user: User) -> list[personal_data.Entry]:
    favourites = Favourite.objects.filter(user=user).select_related("service")
    return [
        personal_data.labelled(
            [(_("Service"), favourite.service.name), (_("Position"), favourite.position)]
        )
        for favourite in favourites.order_by("position", "pk")
    ]


def register() -> None:
    """Called from ``PortalConfig.ready``."""
    personal_data.register_section("favourites", _("Services favoris"), _favourites, order=50)
