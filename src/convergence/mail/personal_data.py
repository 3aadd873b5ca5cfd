"""The personal data of the webmail ("Mes données"): what the portal itself holds about a
person's mail — never the mail, which stays on the académie's mail server — and what the
public notice says of it (``core.data_notice``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import data_notice, personal_data
from convergence.mail.models import (
    AppPassword,
    CollectedAddress,
    Contact,
    ContactGroup,
    MailAlert,
    PhishingReport,
    Signature,
    TrustedSender,
)


def _app_passwords(user: User) -> list[personal_data.Entry]:
    return [
        personal_data.labelled(
            [
                (_("Appareil"), password.label),
                (_("Type d'appareil"), password.get_device_display()),
                (_("Créé le"), personal_data.when(password.created_at)),
                (_("Dernière utilisation"), personal_data.when(password.last_used_at)),
                (_("Lieu approximatif"), password.last_used_place or None),
                (_("Révoqué le"), personal_data.when(password.revoked_at)),
            ]
        )
        for password in AppPassword.objects.of(user)
    ]


def _settings(user: User) -> list[personal_data.Entry]:
    entries = [
        personal_data.labelled([(_("Signature"), text)])
        for text in Signature.objects.filter(user=user).values_list("text", flat=True)
    ]
    entries += [
        personal_data.labelled(
            [
                (_("Expéditeur dont les images sont affichées"), sender.address),
                (_("Depuis le"), personal_data.when(sender.created_at)),
            ]
        )
        for sender in TrustedSender.objects.filter(user=user).order_by("address")
    ]
    return entries


def _address_book(user: User) -> list[personal_data.Entry]:
    groups: dict[int, list[str]] = {}
    for group in ContactGroup.objects.filter(owner=user).prefetch_related("members"):
        for member in group.members.all():
            groups.setdefault(member.pk, []).append(group.name)
    entries = [
        personal_data.labelled(
            [
                (_("Nom"), contact.name or None),
                (_("Adresse électronique"), contact.address),
                (_("Téléphone"), contact.phone or None),
                (_("Organisme"), contact.organisation or None),
                (_("Note"), contact.note or None),
                (_("Groupes"), ", ".join(sorted(groups.get(contact.pk, []))) or None),
            ]
        )
        for contact in Contact.objects.filter(owner=user)
    ]
    entries += [
        personal_data.labelled(
            [
                (_("Adresse récemment utilisée"), collected.address),
                (_("Nombre d'envois"), collected.times_used),
                (_("Dernier envoi"), personal_data.when(collected.last_used_at)),
            ]
        )
        for collected in CollectedAddress.objects.filter(owner=user)
    ]
    return entries


def _alerts_and_reports(user: User) -> list[personal_data.Entry]:
    entries = [
        personal_data.labelled(
            [
                (_("Alerte d'une règle"), alert.subject),
                (_("Expéditeur"), alert.sender),
                (_("Reçu le"), personal_data.when(alert.received_at)),
                (_("Vu le"), personal_data.when(alert.seen_at)),
            ]
        )
        for alert in MailAlert.objects.of(user)
    ]
    entries += [
        personal_data.labelled(
            [
                (_("Message signalé comme hameçonnage"), report.subject),
                (_("Expéditeur"), report.sender_address),
                (_("Signalé le"), personal_data.when(report.reported_at)),
            ]
        )
        for report in PhishingReport.objects.filter(reporter=user)
    ]
    return entries


def register() -> None:
    """Called from ``MailConfig.ready``."""
    personal_data.register_section(
        "mail_app_passwords", _("Mots de passe d'application"), _app_passwords, order=75
    )
    personal_data.register_section(
        "mail_settings", _("Réglages de la messagerie"), _settings, order=76
    )
    personal_data.register_section(
        "mail_address_book", _("Carnet d'adresses"), _address_book, order=77
    )
    personal_data.register_section(
        "mail_alerts", _("Alertes et signalements de la messagerie"), _alerts_and_reports, order=78
    )
    data_notice.declare_kept(
        "mail_address_book",
        _("Carnet d'adresses et réglages de la messagerie"),
        what=_(
            "Vos contacts personnels et leurs groupes, les adresses auxquelles vous avez écrit, "
            "votre signature, les expéditeurs dont vous affichez les images et vos mots de "
            "passe d'application (leur empreinte seulement). Vos messages, vos règles et votre "
            "réponse d'absence restent sur le serveur de messagerie de l'académie."
        ),
        purpose=_("Vous proposer vos destinataires et garder vos réglages de messagerie."),
        retention=lambda: _("Jusqu'à ce que vous les supprimiez, au plus tard avec le compte."),
        order=67,
    )
    data_notice.declare_kept(
        "mail_phishing_reports",
        _("Signalements d'hameçonnage"),
        what=_(
            "L'expéditeur, l'objet et les domaines des liens des messages que vous signalez ; "
            "le message lui-même est transmis à l'adresse de sécurité de l'académie."
        ),
        purpose=_("Permettre à la DSI de repérer les campagnes d'hameçonnage et de prévenir."),
        retention=lambda: _("Un an, au plus tard avec le compte."),
        order=68,
    )
