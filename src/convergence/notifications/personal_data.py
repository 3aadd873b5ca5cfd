"""The personal data of the notifications app ("Mes données"): the person's latest
notifications, their preferences and settings, the devices that receive their pushes
(never the keys), and what the public notice says of them (``core.data_notice``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import data_notice, personal_data
from convergence.core.notify import Category
from convergence.notifications.actions import READ_KEPT_DAYS, UNREAD_KEPT_DAYS
from convergence.notifications.models import (
    Channel,
    DeliverySettings,
    Notification,
    Preference,
    PushSubscription,
)

LATEST = 100


def _notifications(user: User) -> list[personal_data.Entry]:
    return [
        personal_data.labelled(
            [
                (_("Catégorie"), str(Category(notification.category).label)),
                (_("Titre"), notification.title),
                (_("Texte"), notification.body or None),
                (_("Lien"), notification.url or None),
                (_("Reçue le"), personal_data.when(notification.created_at)),
                (_("Lue le"), personal_data.when(notification.read_at)),
            ]
        )
        for notification in Notification.objects.of(user).order_by("-created_at", "-pk")[:LATEST]
    ]


def _preferences(user: User) -> list[personal_data.Entry]:
    entries = [
        personal_data.labelled(
            [
                (_("Catégorie"), str(Category(preference.category).label)),
                (_("Canal"), str(Channel(preference.channel).label)),
                (_("Activé"), preference.enabled),
            ]
        )
        for preference in Preference.objects.filter(person=user).order_by("category", "channel")
    ]
    settings_row = DeliverySettings.objects.filter(person=user).first()
    if settings_row is not None:
        entries.append(
            personal_data.labelled(
                [
                    (
                        _("Heures calmes"),
                        f"{settings_row.quiet_from} h - {settings_row.quiet_to} h",
                    ),
                    (_("Week-ends au calme"), settings_row.weekends_quiet),
                    (_("Courriels"), settings_row.get_email_mode_display()),
                    (_("Heure du récapitulatif"), f"{settings_row.digest_hour} h"),
                ]
            )
        )
    return entries


def _devices(user: User) -> list[personal_data.Entry]:
    return [
        personal_data.labelled(
            [
                (_("Appareil"), subscription.label or None),
                (_("Ajouté le"), personal_data.when(subscription.created_at)),
                (_("Dernier envoi le"), personal_data.when(subscription.last_used_at)),
            ]
        )
        for subscription in PushSubscription.objects.of(user)
    ]


def register() -> None:
    """Called from ``NotificationsConfig.ready``."""
    personal_data.register_section(
        "notifications", _("Notifications (les 100 dernières)"), _notifications, order=80
    )
    personal_data.register_section(
        "notification_preferences", _("Réglages des notifications"), _preferences, order=81
    )
    personal_data.register_section(
        "notification_devices", _("Appareils recevant les notifications"), _devices, order=82
    )
    data_notice.declare_kept(
        "notifications",
        _("Notifications"),
        what=_(
            "Ce que le portail vous signale (titre, texte, lien, date de lecture), vos "
            "réglages de notification et les navigateurs où vous avez choisi de les recevoir "
            "(l'adresse de leur service de notification et leurs clés de chiffrement)."
        ),
        purpose=_(
            "Vous prévenir comme vous l'avez choisi, sur le portail, par courriel ou sur "
            "vos appareils."
        ),
        retention=lambda: (
            _(
                "Notifications lues : %(read)s jours ; non lues : %(months)s mois. Réglages et "
                "appareils : jusqu'à ce que vous les retiriez, au plus tard avec le compte."
            )
            % {"read": READ_KEPT_DAYS, "months": round(UNREAD_KEPT_DAYS / 30.4)}
        ),
        order=69,
    )
