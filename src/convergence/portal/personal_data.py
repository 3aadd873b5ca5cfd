"""The personal data of the portal ("Mes données"): favourite services; and what the public
notice says of them (``core.data_notice``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import data_notice, personal_data
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
    data_notice.declare_kept(
        "favourites",
        _("Services favoris"),
        what=_("Les services que vous épinglez sur votre tableau de bord, et leur ordre."),
        purpose=_("Vous les montrer en premier."),
        retention=lambda: _("Jusqu'à ce que vous les retiriez, au plus tard avec le compte."),
        order=65,
    )
