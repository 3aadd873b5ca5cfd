"""The personal data of the portal ("Mes données"): favourite services, announcements
received and acknowledged; and what the public notice says of them (``core.data_notice``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import data_notice, personal_data
from convergence.portal.models import AnnouncementRecipient, Favourite


def _favourites(user: User) -> list[personal_data.Entry]:
    favourites = Favourite.objects.filter(user=user).select_related("service")
    return [
        personal_data.labelled(
            [(_("Service"), favourite.service.name), (_("Position"), favourite.position)]
        )
        for favourite in favourites.order_by("position", "pk")
    ]


def _announcements(user: User) -> list[personal_data.Entry]:
    receipts = (
        AnnouncementRecipient.objects.filter(person=user)
        .select_related("announcement")
        .order_by("-announcement__publish_at", "-pk")
    )
    return [
        personal_data.labelled(
            [
                (_("Annonce"), receipt.announcement.title),
                (_("Publiée le"), receipt.announcement.publish_at),
                (_("Lecture confirmée le"), receipt.acknowledged_at),
            ]
        )
        for receipt in receipts
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
    personal_data.register_section("announcements", _("Annonces reçues"), _announcements, order=55)
    data_notice.declare_kept(
        "announcements",
        _("Annonces reçues"),
        what=_(
            "Les annonces de la direction ou du rectorat qui vous ont été adressées, et la date "
            "à laquelle vous avez confirmé leur lecture (« J'ai lu »)."
        ),
        purpose=_(
            "Vous les montrer, et dire à leur auteur qui a confirmé la lecture et qui ne l'a "
            "pas encore fait."
        ),
        retention=lambda: _("Tant que l'annonce est conservée, au plus tard avec le compte."),
        order=66,
    )
