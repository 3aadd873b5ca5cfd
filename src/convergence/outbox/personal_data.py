"""The personal data of the outbox ("Mes données"): e-mails to the person still waiting for
the mail server, or abandoned. Their text is left out (it may hold a link); the subject, the
address and the dates say what they are. Also what the public notice says of them
(``core.data_notice``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.core import data_notice, personal_data
from convergence.outbox.actions import ABANDONED_KEPT
from convergence.outbox.models import PendingMail


def _pending_mail(user: Any) -> list[personal_data.Entry]:
    # The person's own address and their recovery address once confirmed: where the portal
    # writes to them (accounts.mailing.contact_address, which outbox sits below). An address
    # typed but not confirmed may be someone else's: it shows nothing.
    addresses = [getattr(user, "email", "")]
    if getattr(user, "recovery_email_confirmed_at", None):
        addresses.append(getattr(user, "recovery_email", ""))
    rows = PendingMail.objects.addressed_to(*addresses).order_by("created_at", "pk")
    return [
        personal_data.labelled(
            [
                (_("Créé le"), personal_data.when(row.created_at)),
                (_("Objet"), row.subject),
                (_("Destinataire"), row.recipient),
                (_("État"), str(row.get_state_display())),
                (_("Tentatives"), row.attempts),
            ]
        )
        for row in rows
    ]


def register() -> None:
    """Called from ``OutboxConfig.ready``."""
    personal_data.register_section(
        "pending_mail", _("Courriels en attente d'envoi"), _pending_mail, order=85
    )
    data_notice.declare_kept(
        "pending_mail",
        _("Courriels en attente d'envoi"),
        what=_(
            "Un courriel du portail (lien de réinitialisation, alerte, confirmation) que le "
            "serveur de messagerie n'a pas encore pris : destinataire, objet et texte."
        ),
        purpose=_("Vous le remettre dès que le serveur de messagerie répond à nouveau."),
        retention=_pending_mail_kept,
        order=85,
    )
    data_notice.declare_kept(
        "sms_outbox",
        _("SMS (boîte d'envoi de développement)"),
        what=_("Le numéro et le texte des SMS que le portail aurait envoyés."),
        purpose=_("Essayer le portail sans prestataire d'envoi de SMS."),
        retention=_sms_outbox_kept,
        order=86,
    )


def _pending_mail_kept() -> str:
    return gettext(
        "Supprimé dès qu'il est envoyé. Après %(attempts)d tentatives sans succès il est "
        "abandonné, puis supprimé %(delay)s après sa création."
    ) % {
        "attempts": settings.MAIL_RETRY_MAX_ATTEMPTS,
        "delay": data_notice.duration(ABANDONED_KEPT),
    }


def _sms_outbox_kept() -> str | Promise | None:
    # Only the development backend keeps SMS; with a provider the portal keeps none.
    if settings.SMS_BACKEND != "outbox":
        return None
    return _("Sans suppression automatique : cette boîte ne sert qu'aux essais.")
