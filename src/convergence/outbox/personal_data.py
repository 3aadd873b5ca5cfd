"""The personal data of the outbox ("Mes données"): e-mails to the person still waiting for
the mail server, or abandoned. Their text is left out (it may hold a link); the subject, the
address and the dates say what they are."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from convergence.core import personal_data
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
