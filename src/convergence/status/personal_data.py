"""The personal data of service status ("Mes données"): the services a person follows; and
what the public notice says of them (``core.data_notice``)."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import data_notice, personal_data
from convergence.status.models import Subscription


def _subscriptions(user: User) -> list[personal_data.Entry]:
    subscriptions = Subscription.objects.filter(user=user).select_related("service")
    return [
        personal_data.labelled(
            [
                (_("Service"), subscription.service.name),
                (_("Depuis le"), formats.date_format(subscription.created_at, "j F Y")),
            ]
        )
        for subscription in subscriptions.order_by("service__name")
    ]


def register() -> None:
    """Called from ``StatusConfig.ready``."""
    personal_data.register_section(
        "status_subscriptions", _("Abonnements à l'état des services"), _subscriptions, order=55
    )
    data_notice.declare_kept(
        "status_subscriptions",
        _("Abonnements à l'état des services"),
        what=_("Les services dont vous suivez les incidents et les maintenances."),
        purpose=_("Vous prévenir par courriel de leurs incidents et maintenances."),
        retention=lambda: _("Jusqu'à ce que vous vous désabonniez, au plus tard avec le compte."),
        order=66,
    )
